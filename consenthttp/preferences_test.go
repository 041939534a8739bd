package consenthttp_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/consenthttp"
)

var (
	hiddenRE  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	checkedRE = regexp.MustCompile(`<input type="checkbox" id="[^"]+" name="on" value="([^"]+)" checked`)
)

// formOf returns the values the page's form would send as shown.
func formOf(t testing.TB, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range checkedRE.FindAllStringSubmatch(page, -1) {
		v.Add("on", m[1])
	}
	require.NotEmpty(t, v.Get("csrf"), "the page has a form token")
	return v
}

func setOn(v url.Values, ids ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if k != "on" {
			out[k] = append([]string(nil), vs...)
		}
	}
	out["on"] = ids
	return out
}

var sameOrigin = []string{"Sec-Fetch-Site", "same-origin", "Origin", "https://example.nl"}

func TestPreferencesPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	res := f.get(f.preferencesPath("customer-1017"))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'none'")
	b := body(t, res)

	assert.Contains(t, b, `<html lang="en">`)
	assert.Contains(t, b, `<h1>Your preferences</h1>`)
	assert.Contains(t, b, `<legend><h2>What you can switch on or off</h2></legend>`)
	assert.Contains(t, b, `<input type="checkbox" id="p-newsletter" name="on" value="newsletter" checked aria-describedby="d-newsletter">`)
	assert.Contains(t, b, `<label for="p-newsletter">Monthly newsletter</label>`)
	assert.Contains(t, b, `<label for="p-product-tips">Tips about products you use</label>`)
	assert.Contains(t, b, `<h2 id="fixed">What you cannot switch off</h2>`)
	assert.Contains(t, b, `<strong>Service announcements</strong>: Messages about maintenance and outages. We need this to provide the service you agreed to (GDPR Art. 6(1)(b)), so you cannot switch it off.`)
	assert.Contains(t, b, `The law requires this of us (GDPR Art. 6(1)(c))`)
	assert.NotContains(t, b, `id="p-service-announcements"`, "a contract purpose has no switch")
	assert.Contains(t, b, `<a href="https://example.nl/privacy/2026-01">Privacy statement (version 2026-01)</a>`)
	assert.NotContains(t, b, "customer-1017")
	assert.NotContains(t, b, "<script")

	v := formOf(t, b)
	assert.Equal(t, "2026-01", v.Get("notice"))
	assert.Equal(t, []string{"newsletter", "product-tips"}, v["shown"])
	assert.Len(t, v.Get("evidence"), 64)
}

func TestPreferencesLanguage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	path := f.preferencesPath("customer-1017")
	tests := []struct {
		name, query, accept, want string
	}{
		{"default", "", "", "en"},
		{"dutch", "", "nl-NL,nl;q=0.9,en;q=0.8", "nl"},
		{"english preferred", "", "en-GB,nl;q=0.5", "en"},
		{"neither", "", "fr-FR,de;q=0.9", "en"},
		{"dutch later but higher", "", "fr;q=0.9,en;q=0.2,nl;q=0.8", "nl"},
		{"override", "?lang=en", "nl", "en"},
		{"override to dutch", "?lang=nl", "en", "nl"},
		{"unknown override", "?lang=fr", "nl", "nl"},
		{"malformed header", "", ";;;,=q,nl;q=x,en;q=2,nl;q=0.4", "nl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := f.get(path+tt.query, "Accept-Language", tt.accept)
			require.Equal(t, http.StatusOK, res.StatusCode)
			assert.Equal(t, tt.want, res.Header.Get("Content-Language"))
			b := body(t, res)
			assert.Contains(t, b, `<html lang="`+tt.want+`">`)
			if tt.want == "nl" {
				assert.Contains(t, b, "<h1>Uw voorkeuren</h1>")
				assert.Contains(t, b, "Maandelijkse nieuwsbrief")
				assert.Contains(t, b, "AVG art. 6 lid 1 onder b")
				assert.Contains(t, b, `hreflang="en" lang="en">English</a>`)
			} else {
				assert.Contains(t, b, `hreflang="nl" lang="nl">Nederlands</a>`)
			}
		})
	}
}

func TestPreferencesSave(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	path := f.preferencesPath("customer-1017")
	page := body(t, f.get(path))
	v := formOf(t, page)
	require.Equal(t, []string{"newsletter", "product-tips"}, v["on"])

	// Switch the newsletter off, keep the tips.
	res := f.postForm(path, setOn(v, "product-tips"), sameOrigin...)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	assert.Equal(t, path+"?lang=en&saved=1", res.Header.Get("Location"))
	assert.False(t, f.allowed("customer-1017", "newsletter"))
	assert.True(t, f.allowed("customer-1017", "product-tips"))

	h := f.history("customer-1017")
	require.Len(t, h, 2, "only the changed purpose is recorded")
	e := h[1]
	assert.Equal(t, consent.EventWithdraw, e.Type)
	assert.Equal(t, consent.MethodForm, e.Method)
	assert.Equal(t, consent.ActorSubject, e.Actor)
	assert.Equal(t, "2026-01", e.NoticeVersion)
	assert.Equal(t, v.Get("evidence"), hex.EncodeToString(e.EvidenceHash[:]))
	assert.NotEqual(t, [32]byte{}, e.EvidenceHash)

	res = f.get(res.Header.Get("Location"))
	b := body(t, res)
	assert.Contains(t, b, `<p class="status" role="status">Your choices have been saved.</p>`)
	assert.Contains(t, b, `value="newsletter" aria-describedby`, "the newsletter box is now unticked")

	// And on again, in Dutch this time: the evidence is of the Dutch words.
	nl := formOf(t, body(t, f.get(path+"?lang=nl")))
	assert.NotEqual(t, v.Get("evidence"), nl.Get("evidence"))
	res = f.postForm(path, setOn(nl, "newsletter", "product-tips"), sameOrigin...)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, path+"?lang=nl&saved=1", res.Header.Get("Location"))
	assert.True(t, f.allowed("customer-1017", "newsletter"))
	h = f.history("customer-1017")
	assert.Equal(t, consent.EventGrant, h[len(h)-1].Type)
	assert.Equal(t, nl.Get("evidence"), hex.EncodeToString(h[len(h)-1].EvidenceHash[:]))

	// Switching an opt-out purpose off is an objection.
	res = f.postForm(path, setOn(formOf(t, body(t, f.get(path))), "newsletter"), sameOrigin...)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	h = f.history("customer-1017")
	assert.Equal(t, consent.EventObject, h[len(h)-1].Type)
	assert.Equal(t, consent.PurposeID("product-tips"), h[len(h)-1].Purpose)
}

func TestPreferencesEvidenceIsTheWordsShown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	v := formOf(t, body(t, f.get(f.preferencesPath("customer-1017"))))
	words := strings.Join([]string{"Example Mail", "Your preferences",
		"Choose what we may use your data for. You can change this at any time.",
		"What you can switch on or off",
		"Monthly newsletter", "News about our services, once a month.",
		"Tips about products you use", "",
		"Save my choices"}, "\n")
	sum := sha256.Sum256([]byte(words))
	assert.Equal(t, hex.EncodeToString(sum[:]), v.Get("evidence"))
}

func TestPreferencesSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	req := func(method string, form url.Values) *http.Request {
		r, _ := http.NewRequest(method, "https://example.nl/consent/preferences", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		r.AddCookie(&http.Cookie{Name: "session", Value: "customer-1017"})
		return r
	}
	res := f.do(req(http.MethodGet, nil))
	require.Equal(t, http.StatusOK, res.StatusCode)
	v := formOf(t, body(t, res))
	res = f.do(req(http.MethodPost, setOn(v)))
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/consent/preferences?lang=en&saved=1", res.Header.Get("Location"))
	assert.False(t, f.allowed("customer-1017", "newsletter"))
}

func TestPreferencesBadRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	f.grant("customer-2", "newsletter")
	path := f.preferencesPath("customer-1017")
	v := formOf(t, body(t, f.get(path)))
	otherForm := formOf(t, body(t, f.get(f.preferencesPath("customer-2"))))
	unsubTok := strings.TrimPrefix(f.unsubscribePath("customer-1017", "newsletter"), "/consent/unsubscribe/")
	tok := strings.TrimPrefix(path, "/consent/preferences/")
	off := setOn(v) // every box unticked

	with := func(k, val string) url.Values {
		o := setOn(v)
		o.Set(k, val)
		return o
	}
	without := func(k string) url.Values {
		o := setOn(v)
		o.Del(k)
		return o
	}

	tests := []struct {
		name   string
		method string
		path   string
		form   url.Values
		hdr    []string
		status int
		text   string
	}{
		{"missing form token", "POST", path, without("csrf"), sameOrigin, 403, "This form has expired"},
		{"empty form token", "POST", path, with("csrf", ""), sameOrigin, 403, "This form has expired"},
		{"garbage form token", "POST", path, with("csrf", "<script>"), sameOrigin, 403, "This form has expired"},
		{"form token of another subject", "POST", path, setOn(otherForm), sameOrigin, 403, "This form has expired"},
		{"altered notice", "POST", path, with("notice", "2025-01"), sameOrigin, 403, "This form has expired"},
		{"altered evidence", "POST", path, with("evidence", strings.Repeat("0", 64)), sameOrigin, 403, "This form has expired"},
		{"altered purposes shown", "POST", path, with("shown", "product-tips"), sameOrigin, 403, "This form has expired"},
		{"altered language", "POST", path, with("lang", "nl"), sameOrigin, 403, "Dit formulier is verlopen"},
		{"two form tokens", "POST", path, func() url.Values { o := setOn(v); o.Add("csrf", v.Get("csrf")); return o }(), sameOrigin, 403, "This form has expired"},
		{"cross-site", "POST", path, off, []string{"Sec-Fetch-Site", "cross-site"}, 403, "This form has expired"},
		{"foreign origin", "POST", path, off, []string{"Origin", "https://evil.example"}, 403, "This form has expired"},
		{"box for a purpose not shown", "POST", path, setOn(v, "service-announcements"), sameOrigin, 400, "This request is not valid"},
		{"oversized", "POST", path, with("x", strings.Repeat("a", consenthttp.MaxBodyLen)), sameOrigin, 413, "too large"},
		{"bad encoding", "POST", path, nil, sameOrigin, 400, "This request is not valid"},
		{"PUT", "PUT", path, off, sameOrigin, 405, "not allowed"},
		{"no identity", "POST", "/consent/preferences", off, sameOrigin, 403, "We do not know who you are"},
		{"no identity GET", "GET", "/consent/preferences", nil, nil, 403, "We do not know who you are"},
		{"invalid token", "POST", "/consent/preferences/" + tok[:len(tok)-1], off, sameOrigin, 404, "This link is not valid"},
		{"unsubscribe token", "GET", "/consent/preferences/" + unsubTok, nil, nil, 404, "This link is not valid"},
		{"unknown path", "GET", "/consent/other", nil, nil, 404, "This page does not exist"},
		{"outside the prefix", "GET", "/elsewhere/preferences", nil, nil, 404, "This page does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res *http.Response
			switch {
			case tt.method == "GET":
				res = f.get(tt.path, tt.hdr...)
			case tt.form == nil:
				req, _ := http.NewRequest(tt.method, "https://example.nl"+tt.path, strings.NewReader("a=%zz"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res = f.do(req)
			default:
				req, _ := http.NewRequest(tt.method, "https://example.nl"+tt.path, strings.NewReader(tt.form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				for i := 0; i+1 < len(tt.hdr); i += 2 {
					req.Header.Set(tt.hdr[i], tt.hdr[i+1])
				}
				res = f.do(req)
			}
			assert.Equal(t, tt.status, res.StatusCode)
			b := body(t, res)
			assert.Contains(t, b, tt.text)
			assert.Contains(t, b, `role="alert"`)
			assert.NotContains(t, b, "customer-1017")
			assert.NotContains(t, b, "<script>")
		})
	}
	assert.True(t, f.allowed("customer-1017", "newsletter"))
	assert.True(t, f.allowed("customer-2", "newsletter"))
	assert.Len(t, f.history("customer-1017"), 1, "nothing was recorded")
	assert.Len(t, f.history("customer-2"), 1, "nothing was recorded for the other subject")
}

func TestPreferencesFormExpires(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	path := f.preferencesPath("customer-1017")
	v := formOf(t, body(t, f.get(path)))
	f.clock.Add(consenthttp.DefaultFormLifetime)
	res := f.postForm(path, setOn(v), sameOrigin...)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	b := body(t, res)
	assert.Contains(t, b, "This form has expired")
	// The person gets the page again, with a fresh form, and can save.
	res = f.postForm(path, setOn(formOf(t, b)), sameOrigin...)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.False(t, f.allowed("customer-1017", "newsletter"))
}

func TestPreferencesNoticeChanged(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, func(o *consenthttp.Options) { o.FormLifetime = 60 * 24 * time.Hour })
	f.grant("customer-1017", "newsletter")
	require.NoError(t, f.ledger.AddNotice(context.Background(), consent.Notice{
		Version: "2026-04", URL: "https://example.nl/privacy/2026-04", Language: "nl",
		ContentHash: sha256.Sum256([]byte("privacy statement 2")),
		AnnouncedAt: start, EffectiveAt: start.Add(31 * 24 * time.Hour),
		Purposes: []consent.PurposeID{"newsletter", "product-tips", "service-announcements", "invoices"},
	}))
	path := f.preferencesPath("customer-1017")
	v := formOf(t, body(t, f.get(path)))
	require.Equal(t, "2026-01", v.Get("notice"))
	f.clock.Add(32 * 24 * time.Hour)
	res := f.postForm(path, setOn(v), sameOrigin...)
	require.Equal(t, http.StatusConflict, res.StatusCode)
	b := body(t, res)
	assert.Contains(t, b, "Our privacy statement changed")
	assert.Contains(t, b, "Privacy statement (version 2026-04)")
	assert.True(t, f.allowed("customer-1017", "newsletter"))
	assert.Equal(t, "2026-04", formOf(t, b).Get("notice"))
}

func TestPreferencesErasedSubject(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	path := f.preferencesPath("customer-1017")
	v := formOf(t, body(t, f.get(path)))
	_, err := f.ledger.Record(context.Background(), consent.Change{Type: consent.EventErase, Subject: "customer-1017",
		Method: consent.MethodAdministrator, Actor: consent.ActorAdministrator})
	require.NoError(t, err)
	res := f.postForm(path, setOn(v, "newsletter", "product-tips"), sameOrigin...)
	require.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, body(t, res), "Your data has been erased")
	assert.Len(t, f.history("customer-1017"), 2)
}

func TestPreferencesIdentifierFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, func(o *consenthttp.Options) {
		o.Identify = consenthttp.IdentifierFunc(func(*http.Request) (personaldata.SubjectID, error) {
			return "", errors.New("session store down")
		})
	})
	res := f.get("/consent/preferences")
	require.Equal(t, http.StatusInternalServerError, res.StatusCode)
	b := body(t, res)
	assert.Contains(t, b, "Something went wrong on our side")
	assert.NotContains(t, b, "session store down")
	assert.Contains(t, f.log.String(), "session store down")
}

func TestPreferencesUnknownSubjectLooksTheSame(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	// A subject the ledger knows, whose choices match the defaults the
	// ledger gives a subject it does not know.
	f.grant("known", "newsletter")
	_ = f.postForm(f.unsubscribePath("known", "newsletter"), oneClick)
	a := formOf(t, body(t, f.get(f.preferencesPath("known"))))
	b := formOf(t, body(t, f.get(f.preferencesPath("never-seen"))))
	for _, k := range []string{"notice", "evidence", "shown", "lang"} {
		assert.Equal(t, a[k], b[k], k)
	}
}
