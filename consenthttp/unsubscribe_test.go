package consenthttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/consenthttp"
)

func TestMessageHeader(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	hdr, err := f.h.MessageHeader("customer-1017", "newsletter")
	require.NoError(t, err)
	require.Equal(t, []string{"List-Unsubscribe=One-Click"}, hdr["List-Unsubscribe-Post"])
	require.Len(t, hdr["List-Unsubscribe"], 1)
	lu := hdr["List-Unsubscribe"][0]
	require.True(t, strings.HasPrefix(lu, "<https://example.nl/consent/unsubscribe/"), lu)
	require.True(t, strings.HasSuffix(lu, ">"), lu)

	// Neither the token nor its decoding holds the subject ID.
	tok := strings.TrimSuffix(strings.TrimPrefix(lu, "<https://example.nl/consent/unsubscribe/"), ">")
	assert.NotContains(t, lu, "customer-1017")
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(raw, []byte("customer-1017")))
	assert.False(t, bytes.Contains(raw, []byte("newsletter")))
	assert.LessOrEqual(t, len(tok), consenthttp.MaxTokenLen)

	// Two links for the same subject and purpose differ (random nonce), so
	// links cannot be matched across messages.
	u1, _ := f.h.UnsubscribeURL("customer-1017", "newsletter")
	u2, _ := f.h.UnsubscribeURL("customer-1017", "newsletter")
	assert.NotEqual(t, u1, u2)
}

func TestUnsubscribeURLRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	_, err := f.h.UnsubscribeURL("customer-1017", "service-announcements")
	assert.ErrorIs(t, err, consent.ErrWithdrawalRefused)
	_, err = f.h.UnsubscribeURL("customer-1017", "invoices")
	assert.ErrorIs(t, err, consent.ErrWithdrawalRefused)
	_, err = f.h.UnsubscribeURL("customer-1017", "no-such-purpose")
	assert.ErrorIs(t, err, consent.ErrUnknownPurpose)
	_, err = f.h.MessageHeader("", "newsletter")
	assert.Error(t, err)
	_, err = f.h.UnsubscribeURL(personaldata.SubjectID(strings.Repeat("x", 256)), "newsletter")
	assert.Error(t, err)

	noBase := newFixture(t, nil, func(o *consenthttp.Options) { o.BaseURL = "" })
	_, err = noBase.h.UnsubscribeURL("customer-1017", "newsletter")
	assert.ErrorIs(t, err, consenthttp.ErrNoBaseURL)
	_, err = noBase.h.PreferencesURL("customer-1017")
	assert.ErrorIs(t, err, consenthttp.ErrNoBaseURL)
}

func TestUnsubscribeGetChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	path := f.unsubscribePath("customer-1017", "newsletter")

	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodGet} {
		res := f.do(httptest.NewRequest(method, "https://example.nl"+path, nil))
		require.Equal(t, http.StatusOK, res.StatusCode, method)
		b := body(t, res)
		if method == http.MethodHead {
			assert.Empty(t, b)
			continue
		}
		assert.Contains(t, b, `Do you want to stop receiving “Monthly newsletter”?`)
		assert.Contains(t, b, `<input type="hidden" name="List-Unsubscribe" value="One-Click">`)
		assert.Equal(t, 1, strings.Count(b, "<button"), "one button")
		assert.NotContains(t, b, "customer-1017")
	}
	assert.True(t, f.allowed("customer-1017", "newsletter"), "a GET must not unsubscribe")
	assert.Len(t, f.history("customer-1017"), 1)
}

func TestUnsubscribeOneClick(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	f.grant("customer-2", "newsletter")
	path := f.unsubscribePath("customer-1017", "newsletter")

	res := f.postForm(path, oneClick)
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Empty(t, body(t, res))
	assert.False(t, f.allowed("customer-1017", "newsletter"))
	assert.True(t, f.allowed("customer-2", "newsletter"), "another subject is untouched")

	h := f.history("customer-1017")
	require.Len(t, h, 2)
	e := h[1]
	assert.Equal(t, consent.EventWithdraw, e.Type)
	assert.Equal(t, consent.PurposeID("newsletter"), e.Purpose)
	assert.Equal(t, consent.MethodEmailLink, e.Method)
	assert.Equal(t, consent.ActorSubject, e.Actor)
	assert.Equal(t, "2026-01", e.NoticeVersion)

	// Idempotent: the same click again records nothing more.
	res = f.postForm(path, oneClick)
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Len(t, f.history("customer-1017"), 2)

	// The page now says so, and offers the preference centre.
	res = f.get(path)
	require.Equal(t, http.StatusOK, res.StatusCode)
	b := body(t, res)
	assert.Contains(t, b, "You do not receive “Monthly newsletter”.")
	assert.NotContains(t, b, "<button")
	assert.Contains(t, b, `<a href="https://example.nl/consent/preferences">Manage all your preferences</a>`,
		"the session's preference centre, not one opened by the unsubscribe token")
}

func TestUnsubscribeMultipart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("List-Unsubscribe", "One-Click"))
	require.NoError(t, mw.Close())
	req := httptest.NewRequest(http.MethodPost, "https://example.nl"+f.unsubscribePath("customer-1017", "newsletter"), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res := f.do(req)
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.False(t, f.allowed("customer-1017", "newsletter"))
}

func TestUnsubscribeConfirmationButton(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	path := f.unsubscribePath("customer-1017", "newsletter")

	res := f.postForm(path, url.Values{"List-Unsubscribe": {"One-Click"}, "page": {"1"}, "lang": {"nl"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	loc := res.Header.Get("Location")
	assert.Equal(t, path+"?done=1&lang=nl", loc)
	assert.False(t, f.allowed("customer-1017", "newsletter"))

	res = f.get(loc)
	require.Equal(t, http.StatusOK, res.StatusCode)
	b := body(t, res)
	assert.Contains(t, b, `<html lang="nl">`)
	assert.Contains(t, b, "U bent afgemeld.")
	assert.Contains(t, b, "U ontvangt “Maandelijkse nieuwsbrief” niet.")
}

func TestUnsubscribeObjectsToLegitimateInterests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter") // the subject is known to the ledger
	res := f.postForm(f.unsubscribePath("customer-1017", "product-tips"), oneClick)
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	h := f.history("customer-1017")
	assert.Equal(t, consent.EventObject, h[len(h)-1].Type)
	assert.False(t, f.allowed("customer-1017", "product-tips"))
}

func TestUnsubscribeErasedSubject(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	path := f.unsubscribePath("customer-1017", "newsletter")
	_, err := f.ledger.Record(context.Background(), consent.Change{Type: consent.EventErase, Subject: "customer-1017",
		Method: consent.MethodAdministrator, Actor: consent.ActorAdministrator})
	require.NoError(t, err)
	res := f.postForm(path, oneClick)
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Len(t, f.history("customer-1017"), 2)
}

func TestUnsubscribeUnknownSubjectLooksTheSame(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("known", "newsletter")
	_ = f.postForm(f.unsubscribePath("known", "newsletter"), oneClick)

	known := f.get(f.unsubscribePath("known", "newsletter"))
	unknown := f.get(f.unsubscribePath("never-seen", "newsletter"))
	require.Equal(t, known.StatusCode, unknown.StatusCode)
	assert.Equal(t, stripTokens(body(t, known)), stripTokens(body(t, unknown)))
}

// stripTokens removes link tokens from a page, so pages of two subjects
// compare equal when they say the same.
func stripTokens(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "/consent/")
		if i < 0 {
			return b.String() + s
		}
		b.WriteString(s[:i])
		s = s[i:]
		j := strings.IndexAny(s, `"?`)
		if j < 0 {
			return b.String()
		}
		s = s[j:]
	}
}

func TestUnsubscribeBadRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	f.grant("customer-2", "newsletter")
	path := f.unsubscribePath("customer-1017", "newsletter")
	tok := strings.TrimPrefix(path, "/consent/unsubscribe/")
	prefTok := strings.TrimPrefix(f.preferencesPath("customer-1017"), "/consent/preferences/")

	flip := func(i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	other := newFixture(t, []consenthttp.Key{{ID: 1, Secret: secret2}})
	otherTok := strings.TrimPrefix(other.unsubscribePath("customer-1017", "newsletter"), "/consent/unsubscribe/")

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		ctype  string
		status int
	}{
		{"forged first byte", "POST", "/consent/unsubscribe/" + flip(0), "List-Unsubscribe=One-Click", "", 404},
		{"forged key ID", "POST", "/consent/unsubscribe/" + flip(2), "List-Unsubscribe=One-Click", "", 404},
		{"forged ciphertext", "POST", "/consent/unsubscribe/" + flip(60), "List-Unsubscribe=One-Click", "", 404},
		{"forged tag", "POST", "/consent/unsubscribe/" + flip(len(tok)-2), "List-Unsubscribe=One-Click", "", 404},
		{"truncated", "POST", "/consent/unsubscribe/" + tok[:len(tok)-1], "List-Unsubscribe=One-Click", "", 404},
		{"truncated to half", "POST", "/consent/unsubscribe/" + tok[:len(tok)/2], "List-Unsubscribe=One-Click", "", 404},
		{"extended", "POST", "/consent/unsubscribe/" + tok + "AAAA", "List-Unsubscribe=One-Click", "", 404},
		{"garbage", "POST", "/consent/unsubscribe/" + "%21%21%21", "List-Unsubscribe=One-Click", "", 404},
		{"padding", "POST", "/consent/unsubscribe/" + tok + "=", "List-Unsubscribe=One-Click", "", 404},
		{"oversized token", "GET", "/consent/unsubscribe/" + strings.Repeat("A", 100000), "", "", 404},
		{"other secret", "POST", "/consent/unsubscribe/" + otherTok, "List-Unsubscribe=One-Click", "", 404},
		{"preference token", "POST", "/consent/unsubscribe/" + prefTok, "List-Unsubscribe=One-Click", "", 404},
		{"no token", "POST", "/consent/unsubscribe/", "List-Unsubscribe=One-Click", "", 404},
		{"extra segment", "POST", path + "/x", "List-Unsubscribe=One-Click", "", 404},
		{"empty body", "POST", path, "", "", 400},
		{"one-click in the query only", "POST", path + "?List-Unsubscribe=One-Click", "", "", 400},
		{"wrong value", "POST", path, "List-Unsubscribe=Yes", "", 400},
		{"bad encoding", "POST", path, "List-Unsubscribe=%zz", "", 400},
		{"bad multipart", "POST", path, "garbage", "multipart/form-data; boundary=x", 400},
		{"oversized body", "POST", path, "List-Unsubscribe=One-Click&x=" + strings.Repeat("a", consenthttp.MaxBodyLen), "", 413},
		{"PUT", "PUT", path, "List-Unsubscribe=One-Click", "", 405},
		{"DELETE", "DELETE", path, "", "", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "https://example.nl"+tt.path, strings.NewReader(tt.body))
			ct := tt.ctype
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			req.Header.Set("Content-Type", ct)
			res := f.do(req)
			assert.Equal(t, tt.status, res.StatusCode)
			b := body(t, res)
			assert.NotEmpty(t, b, "a clear message")
			assert.NotContains(t, b, "customer-1017")
			if tt.status == http.StatusMethodNotAllowed {
				assert.Equal(t, "GET, HEAD, POST", res.Header.Get("Allow"))
			}
		})
	}
	// Nothing of it changed anything, for anyone.
	assert.True(t, f.allowed("customer-1017", "newsletter"))
	assert.True(t, f.allowed("customer-2", "newsletter"))
	assert.Len(t, f.history("customer-1017"), 1)
	assert.Len(t, f.history("customer-2"), 1)
}

func TestUnsubscribeInvalidTokensAnswerAlike(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tok := strings.TrimPrefix(f.unsubscribePath("customer-1017", "newsletter"), "/consent/unsubscribe/")
	var first string
	for i, bad := range []string{"x", tok[:len(tok)-3] + "AAA", strings.Repeat("A", len(tok)), tok[1:]} {
		b := body(t, f.get("/consent/unsubscribe/"+bad))
		b = stripTokens(b)
		if i == 0 {
			first = b
			continue
		}
		assert.Equal(t, first, b, "every invalid token gets the same page")
	}
}

func TestUnsubscribeExpiredLink(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	path := f.unsubscribePath("customer-1017", "newsletter")
	f.clock.Add(consenthttp.DefaultLinkLifetime - time.Second)
	require.Equal(t, http.StatusOK, f.get(path).StatusCode)
	f.clock.Add(time.Second)
	res := f.get(path)
	require.Equal(t, http.StatusGone, res.StatusCode)
	assert.Contains(t, body(t, res), "This link has expired.")
	res = f.postForm(path, oneClick)
	require.Equal(t, http.StatusGone, res.StatusCode)
	assert.True(t, f.allowed("customer-1017", "newsletter"))
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	old := newFixture(t, nil)
	old.grant("customer-1017", "newsletter")
	path := old.unsubscribePath("customer-1017", "newsletter")

	// The host rotates: key 2 makes new links, key 1 is retired now.
	rotated, err := consenthttp.New(old.ledger, []consenthttp.Key{
		{ID: 2, Secret: secret2},
		{ID: 1, Secret: secret1, RetiredAt: start},
	}, &consenthttp.Options{BaseURL: "https://example.nl/consent/", Clock: old.clock.Now})
	require.NoError(t, err)
	old.srv = rotated

	old.clock.Add(24 * time.Hour)
	require.Equal(t, http.StatusOK, old.get(path).StatusCode, "old links keep working")

	newLink, err := rotated.UnsubscribeURL("customer-1017", "newsletter")
	require.NoError(t, err)
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(newLink, "https://example.nl/consent/unsubscribe/"))
	require.NoError(t, err)
	assert.Equal(t, byte(2), raw[1], "new links name key 2")

	// After the retired key's grace (the link lifetime) its links stop.
	old.clock.Add(consenthttp.DefaultLinkLifetime - 24*time.Hour)
	require.Equal(t, http.StatusGone, old.get(path).StatusCode)

	// Without key 1 the old link is simply not valid.
	only2, err := consenthttp.New(old.ledger, []consenthttp.Key{{ID: 2, Secret: secret2}}, nil)
	require.NoError(t, err)
	old.srv = only2
	old.clock.Set(start.Add(time.Hour))
	require.Equal(t, http.StatusNotFound, old.get(path).StatusCode)
}

func TestUnsubscribeConcurrentClicksRecordOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.grant("customer-1017", "newsletter")
	path := f.unsubscribePath("customer-1017", "newsletter")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			res := f.postForm(path, oneClick)
			assert.Equal(t, http.StatusNoContent, res.StatusCode)
		})
	}
	wg.Wait()
	assert.Len(t, f.history("customer-1017"), 2)
}

func TestMailboxAndWithdraw(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, func(o *consenthttp.Options) { o.Mailbox = "unsubscribe@example.nl" })
	f.grant("customer-1017", "newsletter")
	f.grant("customer-2", "newsletter")
	hdr, err := f.h.MessageHeader("customer-1017", "newsletter")
	require.NoError(t, err)
	lu := hdr.Get("List-Unsubscribe")
	https, mailto, ok := strings.Cut(lu, ", ")
	require.True(t, ok, lu)
	require.True(t, strings.HasPrefix(https, "<https://example.nl/consent/unsubscribe/"), "the https link comes first (RFC 8058)")
	tok := strings.TrimSuffix(strings.TrimPrefix(https, "<https://example.nl/consent/unsubscribe/"), ">")
	assert.Equal(t, "<mailto:unsubscribe@example.nl?subject=unsubscribe%20"+tok+">", mailto)

	// The host's mail intake reads the subject of the mail and passes the
	// token on.
	ctx := context.Background()
	for _, bad := range []string{"", "garbage", tok[:len(tok)-1], tok + "A"} {
		assert.ErrorIs(t, f.h.Withdraw(ctx, bad), consenthttp.ErrInvalidToken)
	}
	prefTok := strings.TrimPrefix(f.preferencesPath("customer-1017"), "/consent/preferences/")
	assert.ErrorIs(t, f.h.Withdraw(ctx, prefTok), consenthttp.ErrInvalidToken)
	assert.True(t, f.allowed("customer-1017", "newsletter"))

	require.NoError(t, f.h.Withdraw(ctx, " "+tok+"\r\n"))
	require.NoError(t, f.h.Withdraw(ctx, tok), "idempotent")
	assert.False(t, f.allowed("customer-1017", "newsletter"))
	assert.True(t, f.allowed("customer-2", "newsletter"))
	h := f.history("customer-1017")
	require.Len(t, h, 2)
	assert.Equal(t, consent.MethodEmailLink, h[1].Method)

	f.clock.Add(consenthttp.DefaultLinkLifetime)
	err = f.h.Withdraw(ctx, tok)
	assert.ErrorIs(t, err, consenthttp.ErrExpiredToken)
	assert.NotContains(t, err.Error(), tok)

	for _, bad := range []string{"Unsubscribe <u@example.nl>", "u@example.nl?x=1", "not an address"} {
		_, err := consenthttp.New(f.ledger, []consenthttp.Key{{ID: 1, Secret: secret1}}, &consenthttp.Options{Mailbox: bad})
		assert.ErrorIs(t, err, consenthttp.ErrInvalidOptions, bad)
	}
}

func TestUnsubscribePageWithoutSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, func(o *consenthttp.Options) { o.Identify = nil })
	f.grant("customer-1017", "newsletter")
	path := f.unsubscribePath("customer-1017", "newsletter")
	require.Equal(t, http.StatusNoContent, f.postForm(path, oneClick).StatusCode)
	b := body(t, f.get(path))
	assert.Contains(t, b, "You do not receive “Monthly newsletter”.")
	assert.NotContains(t, b, "preferences", "no way from an unsubscribe link to the person's other choices")
}
