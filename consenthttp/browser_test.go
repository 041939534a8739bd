package consenthttp_test

import (
	"context"
	"encoding/hex"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/consenthttp"
)

// Environment of the browser test.
const (
	// requireBrowserEnv=1 makes a missing Chromium a failure instead of a
	// skip; CI sets it.
	requireBrowserEnv = "PERSONALDATA_REQUIRE_BROWSER"
	// artifactsEnv, if set, names a directory that also receives the
	// screenshots (they are always written under the test's temp dir).
	artifactsEnv = "PERSONALDATA_ARTIFACTS"
)

// chromium returns the path of the Chromium binary, or skips (fails under
// requireBrowserEnv=1) when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(requireBrowserEnv) == "1" {
		t.Fatalf("Chromium is required (%s=1) but no chromium is on PATH; install it with: apt-get install -y chromium", requireBrowserEnv)
	}
	t.Skipf("skipping the browser test: no chromium on PATH (apt-get install -y chromium); set %s=1 to make this a failure", requireBrowserEnv)
	return ""
}

// TestBrowserKeyboardOnly opens the preference centre in headless
// Chromium, switches the newsletter off with the keyboard alone (Tab to the
// box, Space, Tab to the button, Enter) and checks the ledger; then does the
// same with an unsubscribe link in Dutch.
func TestBrowserKeyboardOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	bin := chromium(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String() + "/consent/"
	f := newFixture(t, nil, func(o *consenthttp.Options) { o.BaseURL = base })
	f.grant("customer-1017", "newsletter")
	srv := httptest.NewUnstartedServer(f.h)
	require.NoError(t, srv.Listener.Close())
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	prefs, err := f.h.PreferencesURL("customer-1017")
	require.NoError(t, err)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(900, 1000),
		chromedp.Flag("lang", "en-GB"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(cancelCtx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(prefs),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	))
	lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	require.NoError(t, err)
	assert.Equal(t, "en", lang)
	unlabelled, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`[...document.querySelectorAll('input[type=checkbox]')].filter(i => i.labels.length !== 1).length`))
	require.NoError(t, err)
	assert.Zero(t, unlabelled, "every checkbox has one label")

	active := func() (id, tag string) {
		t.Helper()
		id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
		require.NoError(t, err)
		tag, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.tagName`))
		require.NoError(t, err)
		return id, tag
	}
	// tab presses Tab and reports where the focus went: the id of the
	// element, or its tag name if it has none.
	tab := func() string {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)))
		id, tag := active()
		if id != "" {
			return id
		}
		return tag
	}
	checked := func() bool {
		t.Helper()
		on, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('p-newsletter').checked`))
		require.NoError(t, err)
		return on
	}

	// The focus order is the reading order: the choices, then the button.
	require.Equal(t, "p-newsletter", tab(), "the first Tab reaches the first choice")
	require.True(t, checked(), "the newsletter starts on")
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent(" ")))
	require.False(t, checked(), "Space switched the newsletter off")
	require.Equal(t, "p-product-tips", tab())
	require.Equal(t, "BUTTON", tab(), "then the save button")

	// The inline style is allowed by the Content-Security-Policy's hash.
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('button')).backgroundColor`))
	require.NoError(t, err)
	assert.Equal(t, "rgb(11, 87, 208)", bg)

	before, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	saveShot(t, "preferences-before-save.png", before)
	require.True(t, f.allowed("customer-1017", "newsletter"), "nothing changes before the form is sent")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`[role=status]`)),
	))
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[role=status]`)))
	require.NoError(t, err)
	assert.Equal(t, "Your choices have been saved.", status)
	after, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	saveShot(t, "preferences-saved.png", after)

	assert.False(t, f.allowed("customer-1017", "newsletter"))
	assert.True(t, f.allowed("customer-1017", "product-tips"))
	h := f.history("customer-1017")
	require.Len(t, h, 2)
	e := h[1]
	assert.Equal(t, consent.EventWithdraw, e.Type)
	assert.Equal(t, consent.MethodForm, e.Method)
	assert.Equal(t, "2026-01", e.NoticeVersion)
	v := formOf(t, body(t, f.get(f.path(prefs))))
	assert.Equal(t, v.Get("evidence"), hex.EncodeToString(e.EvidenceHash[:]))

	// The unsubscribe link of a message, opened in Dutch: the page asks,
	// Tab reaches its one button, Enter confirms.
	f.grant("customer-2", "newsletter")
	unsub, err := f.h.UnsubscribeURL("customer-2", "newsletter")
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(unsub+"?lang=nl"),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	))
	lang, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	require.NoError(t, err)
	assert.Equal(t, "nl", lang)
	require.True(t, f.allowed("customer-2", "newsletter"), "opening the link changes nothing")
	require.Equal(t, "BUTTON", tab(), "the first Tab reaches the one button")
	confirm, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	saveShot(t, "unsubscribe-confirm.png", confirm)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`[role=status]`)),
	))
	status, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[role=status]`)))
	require.NoError(t, err)
	assert.Equal(t, "U bent afgemeld.", status)
	done, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	saveShot(t, "unsubscribe-done.png", done)
	assert.False(t, f.allowed("customer-2", "newsletter"))
	h = f.history("customer-2")
	require.Len(t, h, 2)
	assert.Equal(t, consent.MethodEmailLink, h[1].Method)
}

func saveShot(t *testing.T, name string, png []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, png, 0o644))
	t.Logf("screenshot: %s", p)
	if dir := os.Getenv(artifactsEnv); dir != "" {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
	}
}
