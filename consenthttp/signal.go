package consenthttp

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// PrivacySignal returns middleware that honours a browser privacy signal
// (Global Privacy Control: the request header Sec-GPC: 1). For a request
// with the signal whose subject Options.Identify names, it records the
// signal in the ledger before calling next, as an objection (or, for a
// consent purpose, a withdrawal) with method consent.MethodPrivacySignal by
// the subject, for each purpose of Options.SignalPurposes that the signal
// would switch off: one that is allowed only by default, with no choice of
// the subject behind it. It never records over an explicit choice (a grant
// stays a grant), and once recorded the signal is not recorded again, so the
// middleware may wrap every request.
//
// Requests without the signal, or whose subject is not identified, pass
// through untouched. A failure to record is logged to Options.Logger and
// does not stop the request.
func (h *Handler) PrivacySignal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.opts.Identify != nil && strings.TrimSpace(r.Header.Get("Sec-GPC")) == "1" {
			s, err := h.opts.Identify.Identify(r)
			switch {
			case err == nil && s.Validate() == nil:
				h.applySignal(r.Context(), s)
			case err != nil && !errors.Is(err, ErrNotIdentified):
				h.opts.Logger.Error("consenthttp: identifying a request with a privacy signal", "err", err)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// applySignal records a privacy signal of subject where it changes a
// decision.
func (h *Handler) applySignal(ctx context.Context, subject personaldata.SubjectID) {
	mu := h.lock(subject)
	mu.Lock()
	defer mu.Unlock()
	now := h.now()
	for _, p := range h.ledger.purposes() {
		if !switchable(p) || h.signal != nil && !h.signal[p.ID] {
			continue
		}
		d, err := h.ledger.decide(ctx, subject, p.ID, now)
		if err != nil {
			h.opts.Logger.Error("consenthttp: deciding for a privacy signal", "subject", subject, "purpose", p.ID, "err", err)
			return
		}
		// Allowed with no event behind it: allowed by default only. An
		// explicit grant has an event; a recorded signal makes it not
		// allowed.
		if !d.Allowed || !d.EventID.IsZero() {
			continue
		}
		err = h.ledger.record(ctx, consent.Change{
			Type:    offType(p),
			Subject: subject,
			Purpose: p.ID,
			Method:  consent.MethodPrivacySignal,
			Actor:   consent.ActorSubject,
		})
		if err != nil && !errors.Is(err, consent.ErrErased) {
			h.opts.Logger.Error("consenthttp: recording a privacy signal", "subject", subject, "purpose", p.ID, "err", err)
		}
	}
}
