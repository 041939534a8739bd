package consenthttp_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/consenthttp"
)

// site is a host page wrapped in the middleware; it counts its calls.
func (f *fixture) site() (http.Handler, *int) {
	var mu sync.Mutex
	n := new(int)
	return f.h.PrivacySignal(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*n++
		mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
	})), n
}

func gpcRequest(subject string, gpc string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://example.nl/account", nil)
	if gpc != "" {
		r.Header.Set("Sec-GPC", gpc)
	}
	if subject != "" {
		r.AddCookie(&http.Cookie{Name: "session", Value: subject})
	}
	return r
}

func TestPrivacySignal(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	site, calls := f.site()

	rec := httptest.NewRecorder()
	site.ServeHTTP(rec, gpcRequest("customer-1017", "1"))
	assert.Equal(t, http.StatusTeapot, rec.Code, "the request goes on")
	assert.Equal(t, 1, *calls)

	h := f.history("customer-1017")
	require.Len(t, h, 2)
	e := h[1]
	assert.Equal(t, consent.EventObject, e.Type)
	assert.Equal(t, consent.PurposeID("product-tips"), e.Purpose)
	assert.Equal(t, consent.MethodPrivacySignal, e.Method)
	assert.Equal(t, consent.ActorSubject, e.Actor)
	assert.False(t, f.allowed("customer-1017", "product-tips"))
	assert.True(t, f.allowed("customer-1017", "newsletter"), "an explicit grant is not overridden")

	// Every later request with the signal records nothing more.
	for range 3 {
		site.ServeHTTP(httptest.NewRecorder(), gpcRequest("customer-1017", "1"))
	}
	assert.Len(t, f.history("customer-1017"), 2)
	assert.Equal(t, 4, *calls)
}

func TestPrivacySignalNeverOverridesAChoice(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "product-tips")
	site, _ := f.site()
	site.ServeHTTP(httptest.NewRecorder(), gpcRequest("customer-1017", "1"))
	assert.Len(t, f.history("customer-1017"), 1)
	assert.True(t, f.allowed("customer-1017", "product-tips"))
}

func TestPrivacySignalChoiceAfterSignal(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	site, _ := f.site()
	site.ServeHTTP(httptest.NewRecorder(), gpcRequest("customer-1017", "1"))
	require.False(t, f.allowed("customer-1017", "product-tips"))

	// The preference page says why the tips are off ...
	path := f.preferencesPath("customer-1017")
	b := body(t, f.get(path, "Sec-GPC", "1"))
	assert.Contains(t, b, "Off because your browser sends a privacy signal (Global Privacy Control).")
	// ... and the person may switch them on: their own choice wins, and
	// the signal is not recorded over it.
	res := f.postForm(path, setOn(formOf(t, b), "newsletter", "product-tips"), sameOrigin...)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.True(t, f.allowed("customer-1017", "product-tips"))
	n := len(f.history("customer-1017"))
	site.ServeHTTP(httptest.NewRecorder(), gpcRequest("customer-1017", "1"))
	assert.Len(t, f.history("customer-1017"), n)
	assert.True(t, f.allowed("customer-1017", "product-tips"))
}

func TestPrivacySignalPassesThrough(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	site, calls := f.site()
	for _, r := range []*http.Request{
		gpcRequest("customer-1017", ""),  // no signal
		gpcRequest("customer-1017", "0"), // not the signal
		gpcRequest("customer-1017", "yes"),
		gpcRequest("", "1"), // nobody identified
	} {
		rec := httptest.NewRecorder()
		site.ServeHTTP(rec, r)
		assert.Equal(t, http.StatusTeapot, rec.Code)
	}
	assert.Equal(t, 4, *calls)
	assert.Len(t, f.history("customer-1017"), 1)
	assert.True(t, f.allowed("customer-1017", "product-tips"))
}

func TestPrivacySignalPurposes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, func(o *consenthttp.Options) { o.SignalPurposes = []consent.PurposeID{"newsletter"} })
	f.grant("customer-1017", "newsletter")
	site, _ := f.site()
	site.ServeHTTP(httptest.NewRecorder(), gpcRequest("customer-1017", "1"))
	assert.Len(t, f.history("customer-1017"), 1, "product-tips is not a signal purpose")
	assert.True(t, f.allowed("customer-1017", "product-tips"))
}

func TestPrivacySignalConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	site, _ := f.site()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { site.ServeHTTP(httptest.NewRecorder(), gpcRequest("customer-1017", "1")) })
	}
	wg.Wait()
	assert.Len(t, f.history("customer-1017"), 2, "one signal recorded")
}

func TestPrivacySignalOnPreferencePage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")

	// A link's page with the signal records nothing: it may be a scanner.
	res := f.get(f.preferencesPath("customer-1017"), "Sec-GPC", "1")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Len(t, f.history("customer-1017"), 1)

	// The session's page with the signal records it, and says so.
	req := httptest.NewRequest(http.MethodGet, "https://example.nl/consent/preferences", nil)
	req.Header.Set("Sec-GPC", "1")
	req.AddCookie(&http.Cookie{Name: "session", Value: "customer-1017"})
	res = f.do(req)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body(t, res), "Off because your browser sends a privacy signal")
	assert.Len(t, f.history("customer-1017"), 2)
	assert.False(t, f.allowed("customer-1017", "product-tips"))
}
