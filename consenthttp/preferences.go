package consenthttp

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

type prefsView struct {
	CSRF       string
	Notice     string
	Evidence   string // hex SHA-256 of the words of the form
	Switchable []choice
	Fixed      []fixed
}

type choice struct {
	ID                consent.PurposeID
	Name, Description string
	On                bool
	Note              string
}

type fixed struct {
	Name, Description, Reason string
}

// servePreferences answers a request to the preference centre. tok is the
// link token of the path, or "" when the host's session identifies.
func (h *Handler) servePreferences(w http.ResponseWriter, r *http.Request, tok string) {
	lang := language(r, h.opts.DefaultLanguage)
	wd := wordsFor(lang)
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		h.message(w, r, http.StatusMethodNotAllowed, lang, wd.PrefTitle, wd.WrongMethod)
		return
	}
	post := r.Method == http.MethodPost
	if post {
		if err := h.xorig.Check(r); err != nil {
			h.message(w, r, http.StatusForbidden, lang, wd.PrefTitle, wd.FormExpired)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyLen)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				h.message(w, r, http.StatusRequestEntityTooLarge, lang, wd.PrefTitle, wd.TooLarge)
				return
			}
			h.message(w, r, http.StatusBadRequest, lang, wd.PrefTitle, wd.BadRequest)
			return
		}
		if l := r.PostForm.Get("lang"); l == "en" || l == "nl" {
			lang, wd = l, wordsFor(l)
		}
	}
	now := h.now()
	subject, status, text := h.identify(r, tok, now, wd)
	if status != 0 {
		h.message(w, r, status, lang, wd.PrefTitle, text)
		return
	}
	if !post {
		// A signal counts only from the host's session: a page opened by a
		// link may be a mail scanner's fetch, not the person's browser.
		if tok == "" && strings.TrimSpace(r.Header.Get("Sec-GPC")) == "1" {
			h.applySignal(r.Context(), subject)
		}
		pg := &page{W: wd, Title: wd.PrefTitle}
		if r.URL.Query().Get("saved") == "1" {
			pg.Status = wd.Saved
		}
		h.showPreferences(w, r, http.StatusOK, subject, now, pg)
		return
	}
	status, text = h.savePreferences(r, subject, now, lang)
	if status != 0 {
		h.showPreferences(w, r, status, subject, h.now(), &page{W: wd, Title: wd.PrefTitle, Alert: text})
		return
	}
	securityHeaders(w, lang)
	http.Redirect(w, r, selfURL(r, lang, true), http.StatusSeeOther)
}

// identify returns the subject of the request, or a status and message.
func (h *Handler) identify(r *http.Request, tok string, now time.Time, wd *words) (personaldata.SubjectID, int, string) {
	if tok != "" {
		c, err := h.keys.open(tok, kindPreferences, now, h.opts.LinkLifetime)
		switch {
		case errors.Is(err, ErrExpiredToken):
			return "", http.StatusGone, wd.ExpiredLink
		case err != nil:
			return "", http.StatusNotFound, wd.InvalidLink
		}
		return c.subject, 0, ""
	}
	if h.opts.Identify == nil {
		return "", http.StatusForbidden, wd.NotIdentified
	}
	s, err := h.opts.Identify.Identify(r)
	switch {
	case errors.Is(err, ErrNotIdentified):
		return "", http.StatusForbidden, wd.NotIdentified
	case err != nil:
		h.opts.Logger.Error("consenthttp: identifying a request", "err", err)
		return "", http.StatusInternalServerError, wd.Failed
	case s.Validate() != nil:
		h.opts.Logger.Error("consenthttp: the Identifier returned a subject ID that is not valid")
		return "", http.StatusInternalServerError, wd.Failed
	}
	return s, 0, ""
}

// view builds the page's choices for subject at now in lang.
func (h *Handler) view(r *http.Request, subject personaldata.SubjectID, now time.Time, wd *words) (*prefsView, consent.Notice, error) {
	v := &prefsView{}
	n := h.ledger.notice(now)
	v.Notice = n.Version
	for _, p := range h.ledger.purposes() {
		name, desc := h.opts.Describe(p, wd.Code)
		if !switchable(p) {
			v.Fixed = append(v.Fixed, fixed{Name: name, Description: desc, Reason: wd.Basis[p.Basis]})
			continue
		}
		d, err := h.ledger.decide(r.Context(), subject, p.ID, now)
		if err != nil {
			return nil, n, err
		}
		note := ""
		if !d.Allowed {
			note = wd.Notes[d.Reason]
		}
		v.Switchable = append(v.Switchable, choice{ID: p.ID, Name: name, Description: desc, On: d.Allowed, Note: note})
	}
	v.Evidence = evidence(h.opts.Service, wd, v)
	v.CSRF = h.keys.formToken(subject, now, v.formFields(wd.Code)...)
	return v, n, nil
}

// formFields are the hidden fields of the form that its token covers.
func (v *prefsView) formFields(lang string) []string {
	ids := make([]string, len(v.Switchable))
	for i, c := range v.Switchable {
		ids[i] = string(c.ID)
	}
	return []string{lang, v.Notice, v.Evidence, strings.Join(ids, " ")}
}

// evidence is the hex SHA-256 of the words of the form as shown: the
// service, the title, the introduction, the legend, each switchable
// purpose's name and description, and the button, one per line, in the
// language shown. It is what a change is recorded with as evidence.
func evidence(service string, wd *words, v *prefsView) string {
	var b strings.Builder
	for _, s := range []string{service, wd.PrefTitle, wd.PrefIntro, wd.Legend} {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	for _, c := range v.Switchable {
		fmt.Fprintf(&b, "%s\n%s\n", c.Name, c.Description)
	}
	b.WriteString(wd.Save)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func (h *Handler) showPreferences(w http.ResponseWriter, r *http.Request, status int, subject personaldata.SubjectID, now time.Time, pg *page) {
	v, n, err := h.view(r, subject, now, pg.W)
	if err != nil {
		h.opts.Logger.Error("consenthttp: deciding for a preference page", "subject", subject, "err", err)
		h.message(w, r, http.StatusInternalServerError, pg.W.Code, pg.W.PrefTitle, pg.W.Failed)
		return
	}
	pg.Prefs = v
	if n.URL != "" {
		pg.Statement = &link{URL: n.URL, Text: fmt.Sprintf(pg.W.Statement, n.Version)}
	}
	h.render(w, r, status, pg)
}

// savePreferences checks the posted form and records the changes it asks
// for; it returns a status and message when it cannot.
func (h *Handler) savePreferences(r *http.Request, subject personaldata.SubjectID, now time.Time, lang string) (int, string) {
	wd := wordsFor(lang)
	f := r.PostForm
	shown := f["shown"]
	if len(f["csrf"]) != 1 || len(f["notice"]) > 1 || len(f["evidence"]) != 1 || len(f["lang"]) != 1 {
		return http.StatusForbidden, wd.FormExpired
	}
	err := h.keys.checkFormToken(f.Get("csrf"), subject, now, h.opts.FormLifetime,
		lang, f.Get("notice"), f.Get("evidence"), strings.Join(shown, " "))
	if err != nil {
		return http.StatusForbidden, wd.FormExpired
	}
	// The token covers shown, notice and evidence: they are as the page
	// showed them. The ticked boxes must be among those shown.
	on := make(map[consent.PurposeID]bool, len(f["on"]))
	for _, id := range f["on"] {
		if !slices.Contains(shown, id) {
			return http.StatusBadRequest, wd.BadRequest
		}
		on[consent.PurposeID(id)] = true
	}
	var hash [32]byte
	if _, err := hex.Decode(hash[:], []byte(f.Get("evidence"))); err != nil {
		return http.StatusBadRequest, wd.BadRequest
	}
	mu := h.lock(subject)
	mu.Lock()
	defer mu.Unlock()
	for _, id := range shown {
		p, ok := h.ledger.purpose(consent.PurposeID(id))
		if !ok || !switchable(p) {
			return http.StatusBadRequest, wd.BadRequest
		}
		d, err := h.ledger.decide(r.Context(), subject, p.ID, now)
		if err != nil {
			h.opts.Logger.Error("consenthttp: deciding for a preference change", "subject", subject, "purpose", p.ID, "err", err)
			return http.StatusInternalServerError, wd.Failed
		}
		want := on[p.ID]
		if want == d.Allowed {
			continue
		}
		typ := consent.EventGrant
		if !want {
			typ = offType(p)
		}
		err = h.ledger.record(r.Context(), consent.Change{
			Type:          typ,
			Subject:       subject,
			Purpose:       p.ID,
			NoticeVersion: f.Get("notice"),
			Method:        consent.MethodForm,
			Actor:         consent.ActorSubject,
			EvidenceHash:  hash,
		})
		switch {
		case err == nil:
		case errors.Is(err, consent.ErrNoticeNotInForce), errors.Is(err, consent.ErrUnknownNotice):
			return http.StatusConflict, wd.NoticeChanged
		case errors.Is(err, consent.ErrErased):
			return http.StatusConflict, wd.Erased
		default:
			h.opts.Logger.Error("consenthttp: recording a preference change", "subject", subject, "purpose", p.ID, "err", err)
			return http.StatusInternalServerError, wd.Failed
		}
	}
	return 0, ""
}
