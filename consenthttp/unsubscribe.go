package consenthttp

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/personaldata/personaldata/consent"
)

type unsubView struct {
	Subscribed   bool
	Question     string
	NotReceiving string
	Manage       string // link to the preference centre, if one can be made
}

// serveUnsubscribe answers a request to unsubscribe/{tok}: GET and HEAD
// show a confirmation page and change nothing; POST with
// List-Unsubscribe=One-Click withdraws.
func (h *Handler) serveUnsubscribe(w http.ResponseWriter, r *http.Request, tok string) {
	lang := language(r, h.opts.DefaultLanguage)
	wd := wordsFor(lang)
	post := r.Method == http.MethodPost
	fail := func(status int, text string) {
		if post && r.FormValue("page") == "" {
			h.plain(w, status, lang, text)
			return
		}
		h.message(w, r, status, lang, wd.UnsubTitle, text)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		h.plain(w, http.StatusMethodNotAllowed, lang, wd.WrongMethod)
		return
	}
	if post {
		// Read the body first, capped, so that every answer below is
		// given to a request that was read in full.
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyLen)
		if err := parseForm(r); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				h.plain(w, http.StatusRequestEntityTooLarge, lang, wd.TooLarge)
				return
			}
			h.plain(w, http.StatusBadRequest, lang, wd.BadRequest)
			return
		}
		if l := r.PostFormValue("lang"); l == "en" || l == "nl" {
			lang, wd = l, wordsFor(l)
		}
	}
	now := h.now()
	c, err := h.keys.open(tok, kindUnsubscribe, now, h.opts.LinkLifetime)
	switch {
	case errors.Is(err, ErrExpiredToken):
		fail(http.StatusGone, wd.ExpiredLink)
		return
	case err != nil:
		fail(http.StatusNotFound, wd.InvalidLink)
		return
	}
	p, ok := h.ledger.purpose(c.purpose)
	if !ok {
		fail(http.StatusNotFound, wd.UnknownList)
		return
	}
	if post {
		if r.PostForm.Get("List-Unsubscribe") != "One-Click" {
			fail(http.StatusBadRequest, wd.BadRequest)
			return
		}
		if err := h.withdraw(r.Context(), c, p); err != nil {
			switch {
			case errors.Is(err, consent.ErrWithdrawalRefused):
				fail(http.StatusForbidden, wd.Refused)
			default:
				h.opts.Logger.Error("consenthttp: recording an unsubscribe", "subject", c.subject, "purpose", c.purpose, "err", err)
				fail(http.StatusInternalServerError, wd.Failed)
			}
			return
		}
		if r.PostForm.Get("page") != "" {
			// The confirmation page's own button: show the result.
			securityHeaders(w, lang)
			http.Redirect(w, r, selfURL(r, lang, true), http.StatusSeeOther)
			return
		}
		// RFC 8058: the mail provider's POST gets no page.
		securityHeaders(w, lang)
		w.WriteHeader(http.StatusNoContent)
		return
	}

	d, err := h.ledger.decide(r.Context(), c.subject, c.purpose, now)
	if err != nil {
		h.opts.Logger.Error("consenthttp: deciding for an unsubscribe page", "subject", c.subject, "purpose", c.purpose, "err", err)
		fail(http.StatusInternalServerError, wd.Failed)
		return
	}
	name, _ := h.opts.Describe(p, lang)
	v := &unsubView{
		Subscribed:   d.Allowed,
		Question:     fmt.Sprintf(wd.UnsubQuestion, name),
		NotReceiving: fmt.Sprintf(wd.NotReceiving, name),
	}
	// The link leads to the preference centre of the host's session, never
	// to one opened by this token: a forwarded message must not show the
	// person's other choices to whoever it was forwarded to.
	if h.base != nil && h.opts.Identify != nil {
		v.Manage = h.link("preferences")
	}
	pg := &page{W: wd, Title: wd.UnsubTitle, Unsub: v}
	if r.URL.Query().Get("done") == "1" && !d.Allowed {
		pg.Status = wd.UnsubDone
	}
	h.render(w, r, http.StatusOK, pg)
}

// withdraw records that c's subject switched c's purpose off by an e-mail
// link, under the notice version in force (the ledger fills it in), unless
// the decision already rests on such a choice: the handler is idempotent.
// An erased subject is left as it is: nothing will be sent to them.
func (h *Handler) withdraw(ctx context.Context, c claims, p consent.Purpose) error {
	mu := h.lock(c.subject)
	mu.Lock()
	defer mu.Unlock()
	d, err := h.ledger.decide(ctx, c.subject, c.purpose, h.now())
	if err != nil {
		return err
	}
	if offByChoice(d) {
		return nil
	}
	err = h.ledger.record(ctx, consent.Change{
		Type:    offType(p),
		Subject: c.subject,
		Purpose: c.purpose,
		Method:  consent.MethodEmailLink,
		Actor:   consent.ActorSubject,
	})
	if errors.Is(err, consent.ErrErased) {
		return nil
	}
	return err
}

// parseForm parses a POST body that is url-encoded or, as RFC 8058 allows,
// multipart/form-data. r.Body must already be capped.
func parseForm(r *http.Request) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" {
		err := r.ParseMultipartForm(MaxBodyLen)
		if r.MultipartForm != nil {
			_ = r.MultipartForm.RemoveAll()
		}
		return err
	}
	return r.ParseForm()
}
