package consenthttp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// Defaults of [Options].
const (
	DefaultLinkLifetime = 365 * 24 * time.Hour
	DefaultFormLifetime = 2 * time.Hour
	DefaultLanguage     = "en"
)

// MaxBodyLen is the largest request body a [Handler] reads, in bytes; a
// larger one gets status 413 and changes nothing.
const MaxBodyLen = 16 << 10

// Options configure a [Handler]. Nil Options and zero fields mean the
// documented defaults. [New] copies them.
type Options struct {
	// BaseURL is the absolute URL the Handler is served at, ending in "/",
	// such as "https://example.nl/consent/". Links are made under it and
	// the Handler serves the paths below its path. It must be https, or
	// http on a loopback address for development. Without it the Handler
	// serves under "/" and the methods that make links fail with
	// ErrNoBaseURL.
	BaseURL string
	// Mailbox, if set, is an e-mail address (such as
	// "unsubscribe@example.nl") that MessageHeader offers besides the https
	// link, as RFC 2369 allows: a mail to it has the subject
	// "unsubscribe <token>", and the host's mail intake passes the token to
	// Handler.Withdraw.
	Mailbox string
	// Identify tells who makes a request that has no link token, from the
	// host's session. Without it only link tokens identify, and
	// PrivacySignal has nobody to record a signal for.
	Identify Identifier
	// Service is the name of the service shown on every page, such as
	// "Example Mail".
	Service string
	// Describe returns the name and a one-sentence description of a
	// purpose in a language ("en" or "nl"). By default the name is the
	// purpose's Description (or its ID) and there is no description.
	// The words are escaped when shown.
	Describe func(p consent.Purpose, lang string) (name, description string)
	// DefaultLanguage is the language of a request whose Accept-Language
	// names neither English nor Dutch: "en" (the default) or "nl".
	DefaultLanguage string
	// LinkLifetime is how long links made by the Handler work, and how
	// long the tokens of a retired Key are still accepted; default 365
	// days.
	LinkLifetime time.Duration
	// FormLifetime is how long a preference page may stay open before its
	// form is refused as expired; default 2 hours.
	FormLifetime time.Duration
	// SignalPurposes lists the purposes a browser privacy signal applies
	// to; nil means every purpose. The signal is recorded only where it
	// changes a decision: for purposes allowed by default that the subject
	// made no choice about.
	SignalPurposes []consent.PurposeID
	// Clock returns the current time; default time.Now. Give it the same
	// clock as the ledger.
	Clock func() time.Time
	// Rand is the randomness of token nonces; default crypto/rand.
	Rand io.Reader
	// Logger receives failures the person cannot be told about, such as a
	// privacy signal that could not be recorded, without personal data;
	// default slog.Default().
	Logger *slog.Logger
}

// Handler serves one-click unsubscribe links (RFC 8058) and a preference
// centre over a consent ledger, and makes the links and message headers
// that lead to them. It serves, below the path of Options.BaseURL:
//
//	unsubscribe/{token}   GET: a confirmation page; POST: withdraw (RFC 8058)
//	preferences/{token}   the preference centre of the token's subject
//	preferences           the preference centre of the subject Options.Identify names
//
// Any other path is 404. Mount it at the path of BaseURL without
// http.StripPrefix (mux.Handle("/consent/", h)): it reads the full request
// path. A Handler is safe for concurrent use.
type Handler struct {
	ledger ledger
	keys   *keyring
	opts   Options
	base   *url.URL // nil without Options.BaseURL
	prefix string   // path prefix, ends in "/"
	xorig  *http.CrossOriginProtection
	signal map[consent.PurposeID]bool // nil: every purpose

	randMu sync.Mutex
	locks  [16]sync.Mutex // striped by subject, for privacy signals
}

// New returns a Handler over l that makes tokens with keys[0] and accepts
// tokens of every key in keys (see [Key] for rotation). It fails on a nil
// ledger, no keys, a key that is not valid ([ErrInvalidKey]) or Options that
// cannot work ([ErrInvalidOptions]).
func New(l *consent.Ledger, keys []Key, opts *Options) (*Handler, error) {
	if l == nil {
		return nil, errors.New("consenthttp: New: nil Ledger")
	}
	kr, err := newKeyring(keys)
	if err != nil {
		return nil, err
	}
	h := &Handler{ledger: ledger{l}, keys: kr, prefix: "/", xorig: http.NewCrossOriginProtection()}
	if opts != nil {
		h.opts = *opts
	}
	o := &h.opts
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LinkLifetime <= 0 {
		o.LinkLifetime = DefaultLinkLifetime
	}
	if o.FormLifetime <= 0 {
		o.FormLifetime = DefaultFormLifetime
	}
	switch o.DefaultLanguage {
	case "":
		o.DefaultLanguage = DefaultLanguage
	case "en", "nl":
	default:
		return nil, fmt.Errorf("%w: DefaultLanguage %q, want \"en\" or \"nl\"", ErrInvalidOptions, o.DefaultLanguage)
	}
	if o.Mailbox != "" {
		if a, err := mail.ParseAddress(o.Mailbox); err != nil || a.Name != "" || a.Address != o.Mailbox || strings.ContainsAny(o.Mailbox, "?#%<>") {
			return nil, fmt.Errorf("%w: Mailbox must be a bare e-mail address", ErrInvalidOptions)
		}
	}
	if o.Describe == nil {
		o.Describe = describe
	}
	if o.SignalPurposes != nil {
		h.signal = make(map[consent.PurposeID]bool, len(o.SignalPurposes))
		for _, p := range o.SignalPurposes {
			h.signal[p] = true
		}
	}
	if o.BaseURL != "" {
		u, err := url.Parse(o.BaseURL)
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
			!strings.HasSuffix(u.Path, "/") || !(u.Scheme == "https" || u.Scheme == "http" && loopback(u.Hostname())) {
			return nil, fmt.Errorf("%w: BaseURL must be an absolute https URL ending in \"/\" without query (http only on a loopback address)", ErrInvalidOptions)
		}
		h.base, h.prefix = u, u.Path
	}
	return h, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func describe(p consent.Purpose, _ string) (string, string) {
	if p.Description != "" {
		return p.Description, ""
	}
	return string(p.ID), ""
}

func (h *Handler) now() time.Time { return h.opts.Clock().UTC() }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, h.prefix)
	if !ok {
		h.notFound(w, r)
		return
	}
	switch {
	case strings.HasPrefix(rest, "unsubscribe/"):
		tok := strings.TrimPrefix(rest, "unsubscribe/")
		if tok == "" || strings.Contains(tok, "/") {
			h.notFound(w, r)
			return
		}
		h.serveUnsubscribe(w, r, tok)
	case rest == "preferences":
		h.servePreferences(w, r, "")
	case strings.HasPrefix(rest, "preferences/"):
		tok := strings.TrimPrefix(rest, "preferences/")
		if tok == "" || strings.Contains(tok, "/") {
			h.notFound(w, r)
			return
		}
		h.servePreferences(w, r, tok)
	default:
		h.notFound(w, r)
	}
}

// UnsubscribeURL returns the one-click unsubscribe link for subject and
// purpose, valid for Options.LinkLifetime. It fails with an error wrapping
// consent.ErrUnknownPurpose for a purpose the ledger does not know, and
// consent.ErrWithdrawalRefused for one the subject cannot switch off
// (contract, legal obligation, vital interests).
func (h *Handler) UnsubscribeURL(subject personaldata.SubjectID, purpose consent.PurposeID) (string, error) {
	if h.base == nil {
		return "", fmt.Errorf("consenthttp: UnsubscribeURL: %w", ErrNoBaseURL)
	}
	p, ok := h.ledger.purpose(purpose)
	if !ok {
		return "", fmt.Errorf("consenthttp: UnsubscribeURL: %w: %q", consent.ErrUnknownPurpose, purpose)
	}
	if !switchable(p) {
		return "", fmt.Errorf("consenthttp: UnsubscribeURL: %w: purpose %q rests on %s", consent.ErrWithdrawalRefused, purpose, p.Basis)
	}
	tok, err := h.token(kindUnsubscribe, subject, purpose)
	if err != nil {
		return "", fmt.Errorf("consenthttp: UnsubscribeURL: %w", err)
	}
	return h.link("unsubscribe/" + tok), nil
}

// PreferencesURL returns a link to subject's preference centre, valid for
// Options.LinkLifetime. Whoever holds it sees and changes the subject's
// choices, as with an unsubscribe link: send it only to the person.
func (h *Handler) PreferencesURL(subject personaldata.SubjectID) (string, error) {
	if h.base == nil {
		return "", fmt.Errorf("consenthttp: PreferencesURL: %w", ErrNoBaseURL)
	}
	tok, err := h.token(kindPreferences, subject, "")
	if err != nil {
		return "", fmt.Errorf("consenthttp: PreferencesURL: %w", err)
	}
	return h.link("preferences/" + tok), nil
}

// MessageHeader returns the header fields that put a one-click unsubscribe
// button in mail clients (RFC 2369, RFC 8058) for a message to subject about
// purpose:
//
//	List-Unsubscribe: <https://example.nl/consent/unsubscribe/TOKEN>
//	List-Unsubscribe-Post: List-Unsubscribe=One-Click
//
// With Options.Mailbox the first field also offers a mail to it, after the
// link: <mailto:unsubscribe@example.nl?subject=unsubscribe%20TOKEN>.
//
// Copy them into the message's header (textproto.MIMEHeader has the same
// type); RFC 8058 requires the message to be DKIM-signed with both fields
// covered. It fails as [Handler.UnsubscribeURL] does.
func (h *Handler) MessageHeader(subject personaldata.SubjectID, purpose consent.PurposeID) (http.Header, error) {
	u, err := h.UnsubscribeURL(subject, purpose)
	if err != nil {
		return nil, err
	}
	lu := "<" + u + ">"
	if h.opts.Mailbox != "" {
		tok := u[strings.LastIndex(u, "/")+1:]
		m := url.URL{Scheme: "mailto", Opaque: h.opts.Mailbox, RawQuery: "subject=unsubscribe%20" + tok}
		lu += ", <" + m.String() + ">"
	}
	return http.Header{
		"List-Unsubscribe":      {lu},
		"List-Unsubscribe-Post": {"List-Unsubscribe=One-Click"},
	}, nil
}

// Withdraw records what the unsubscribe token tok stands for, as a one-click
// POST of its link does: a withdrawal (or objection) of the token's purpose
// by its subject, with method consent.MethodEmailLink, unless the decision
// already rests on such a choice. It is for a token that arrives another
// way, such as the subject "unsubscribe <token>" of a mail to
// Options.Mailbox; surrounding spaces are ignored.
//
// It returns an error wrapping [ErrInvalidToken] for a token that is not a
// valid unsubscribe token of this Handler (whatever the reason),
// [ErrExpiredToken] for an expired one, consent.ErrUnknownPurpose for a
// purpose the ledger no longer knows, and the ledger's error if it fails.
func (h *Handler) Withdraw(ctx context.Context, tok string) error {
	c, err := h.keys.open(strings.TrimSpace(tok), kindUnsubscribe, h.now(), h.opts.LinkLifetime)
	if err != nil {
		return fmt.Errorf("consenthttp: Withdraw: %w", err)
	}
	p, ok := h.ledger.purpose(c.purpose)
	if !ok {
		return fmt.Errorf("consenthttp: Withdraw: %w: %q", consent.ErrUnknownPurpose, c.purpose)
	}
	if err := h.withdraw(ctx, c, p); err != nil {
		return fmt.Errorf("consenthttp: Withdraw: %w", err)
	}
	return nil
}

func (h *Handler) token(kind byte, subject personaldata.SubjectID, purpose consent.PurposeID) (string, error) {
	now := h.now()
	h.randMu.Lock()
	defer h.randMu.Unlock()
	return h.keys.seal(h.opts.Rand, claims{kind: kind, subject: subject, purpose: purpose,
		issued: now, expires: now.Add(h.opts.LinkLifetime)})
}

func (h *Handler) link(rel string) string {
	return h.base.ResolveReference(&url.URL{Path: rel}).String()
}

// lock serialises work on one subject's decisions within this Handler.
func (h *Handler) lock(s personaldata.SubjectID) *sync.Mutex {
	var x uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		x = (x ^ uint32(s[i])) * 16777619
	}
	return &h.locks[x%uint32(len(h.locks))]
}
