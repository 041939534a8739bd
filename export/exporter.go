package export

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/internal/quote"
	"github.com/personaldata/personaldata/retention"
)

// Revealer decrypts the personal data fields of a record in place.
// *pii.Protector implements it. Reveal must report fields whose key was
// shredded with errors that satisfy errors.Is(err, pii.ErrErased) and
// errors.As(err, **pii.FieldError) (as the Protector does), so the
// exporter can mark them as erased.
type Revealer interface {
	Reveal(ctx context.Context, v any) error
}

// Controller is who is responsible for the data (GDPR Art. 15 and 13(1)(a)),
// shown in the manifest and on the index page.
type Controller struct {
	Name    string `json:"name"`              // required
	Contact string `json:"contact"`           // where to send requests: an e-mail address or URL; required
	Address string `json:"address,omitempty"` // postal address
	DPO     string `json:"dpo,omitempty"`     // data protection officer's contact, if any
	// Authority is the supervisory authority a complaint goes to, such as
	// "Autoriteit Persoonsgegevens, https://autoriteitpersoonsgegevens.nl".
	Authority string `json:"authority,omitempty"`
}

// Options configure an Exporter. Nil Options and zero fields mean the
// documented defaults.
type Options struct {
	// Now returns the current time, the generated time of exports (and
	// the timestamp of every zip entry). Default time.Now.
	Now func() time.Time
	// Entropy is the randomness of export IDs (ULIDs) and of the default
	// subject key. Default crypto/rand. It is read under a lock.
	Entropy io.Reader
	// Revealer decrypts records with pii-tagged fields; required if any
	// record type has them.
	Revealer Revealer
	// Consent, if set, adds the subject's consent history, current
	// decisions per purpose and consent receipts to every export.
	Consent *consent.Ledger
	// Retention, if set, supplies the retention statement of every
	// category; registering a category that no rule covers fails.
	Retention *retention.Evaluator
	// SubjectKey keys the pseudonymous subject reference in manifests
	// (HMAC-SHA256 of the subject ID): 32 bytes. Keep it to match a package
	// to its subject later. Default: a random key per Exporter.
	SubjectKey []byte
	// Progress, if set, is called as records are written: every 1,000
	// records and when a file is complete. It is called from the exporting
	// goroutine and must not block for long.
	Progress func(Progress)
	// PageRows caps the records per category shown on index.html (the data
	// files hold them all). Default 1,000.
	PageRows int
}

// Progress reports how far an export is.
type Progress struct {
	Category personaldata.Category
	File     string // the path written, in a package
	Records  int64  // records of Category written to File so far
	Bytes    int64  // bytes of File so far
	Done     bool   // File is complete
}

// Kind is the kind of an export.
type Kind uint8

// The kinds.
const (
	// Access is a copy of all personal data (GDPR Art. 15).
	Access Kind = iota + 1
	// Portability holds only portable categories (GDPR Art. 20).
	Portability
)

// String returns "access" or "portability".
func (k Kind) String() string {
	switch k {
	case Access:
		return "access"
	case Portability:
		return "portability"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// MarshalText implements [encoding.TextMarshaler].
func (k Kind) MarshalText() ([]byte, error) {
	if k != Access && k != Portability {
		return nil, fmt.Errorf("%w: kind %d", ErrInvalidRequest, uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (k *Kind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "access":
		*k = Access
	case "portability":
		*k = Portability
	default:
		return fmt.Errorf("%w: unknown kind", ErrInvalidRequest)
	}
	return nil
}

// Request says what to export.
type Request struct {
	Subject personaldata.SubjectID
	Kind    Kind // default Access
	// Categories limits the export to these categories; nil means all.
	Categories []personaldata.Category
	// Withhold leaves categories out with the reason shown in the
	// manifest, for GDPR Art. 15(4) (the rights of others).
	Withhold map[personaldata.Category]string
}

// registration is a registered category.
type registration struct {
	cat       Category
	src       Source
	plan      *plan // known up front for typed sources; else nil
	retention *retention.Statement
	builtin   bool
}

// Exporter writes a subject's data in JSON, NDJSON, CSV or as a zip
// package. It is safe for concurrent use; register categories before
// exporting, or concurrently with exports (an export sees the categories
// registered when it starts).
type Exporter struct {
	ctl     Controller
	opts    Options
	refKey  []byte
	plans   plans
	mu      sync.Mutex // guards cats, closed and entropy
	cats    []*registration
	closed  bool
	entropy io.Reader
}

// New returns an Exporter for controller c. It fails if c has no name or
// contact, or an option is invalid.
func New(c Controller, opts *Options) (*Exporter, error) {
	if c.Name == "" || c.Contact == "" {
		return nil, fmt.Errorf("%w: New: controller needs a name and a contact", ErrInvalidRequest)
	}
	for _, s := range []string{c.Name, c.Contact, c.Address, c.DPO, c.Authority} {
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("%w: New: controller text is not UTF-8", ErrInvalidRequest)
		}
	}
	e := &Exporter{ctl: c}
	if opts != nil {
		e.opts = *opts
	}
	if e.opts.Now == nil {
		e.opts.Now = time.Now
	}
	e.entropy = e.opts.Entropy
	if e.entropy == nil {
		e.entropy = rand.Reader
	}
	if e.opts.PageRows <= 0 {
		e.opts.PageRows = 1000
	}
	switch len(e.opts.SubjectKey) {
	case 0:
		e.refKey = make([]byte, 32)
		if _, err := io.ReadFull(e.entropy, e.refKey); err != nil {
			return nil, fmt.Errorf("export: New: subject key: %w", err)
		}
	case 32:
		e.refKey = slices.Clone(e.opts.SubjectKey)
	default:
		return nil, fmt.Errorf("%w: New: SubjectKey must be 32 bytes", ErrInvalidRequest)
	}
	if e.opts.Consent != nil {
		for _, r := range consentRegistrations(e.opts.Consent) {
			if err := e.register(r); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

// Register adds category c with the source of its records. It fails with
// ErrInvalidCategory for incomplete metadata, an unsafe name or a name
// registered before, with ErrRecordType for a typed source whose records
// cannot be exported, with ErrNoRevealer for records with pii-tagged fields
// on an Exporter without a Revealer, and with an error wrapping
// retention.ErrNoRule if Options.Retention has no rule for c.
func (e *Exporter) Register(c Category, src Source) error {
	if src == nil {
		return fmt.Errorf("%w: category %s: nil Source", ErrInvalidCategory, c.Name)
	}
	if err := c.validate(); err != nil {
		return err
	}
	return e.register(&registration{cat: c.clone(), src: src})
}

func (e *Exporter) register(r *registration) error {
	if ts, ok := r.src.(typedSource); ok {
		if t := ts.recordType(); t.Kind() != reflect.Interface {
			p, err := e.plans.get(t)
			if err != nil {
				return fmt.Errorf("category %s: %w", r.cat.Name, err)
			}
			if !r.builtin && p.st != nil && p.st.hasPII && e.opts.Revealer == nil {
				return fmt.Errorf("%w: category %s", ErrNoRevealer, r.cat.Name)
			}
			r.plan = p
		}
	}
	if ev := e.opts.Retention; ev != nil {
		st, err := retentionStatement(ev, r.cat)
		switch {
		case err == nil:
			r.retention = &st
		case !r.builtin:
			return fmt.Errorf("%w: category %s: retention: %w", ErrInvalidCategory, r.cat.Name, err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	for _, o := range e.cats {
		if o.cat.Name == r.cat.Name {
			return fmt.Errorf("%w: category %s registered twice", ErrInvalidCategory, r.cat.Name)
		}
	}
	e.cats = append(e.cats, r)
	return nil
}

// retentionStatement is the one call into package retention: the
// statement of the category as a whole, so no record key and no subject
// (legal holds on one person's records do not change what the category's
// statement says).
func retentionStatement(ev *retention.Evaluator, c Category) (retention.Statement, error) {
	return ev.Statement(context.Background(), "", retention.Facts{Category: c.Name, Kind: c.Kind})
}

// Categories returns the registered categories in registration order,
// the consent categories first when a ledger is configured.
func (e *Exporter) Categories() []Category {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Category, len(e.cats))
	for i, r := range e.cats {
		out[i] = r.cat.clone()
	}
	return out
}

// Close marks the Exporter closed: later calls return ErrClosed. Exports
// already running finish. It is safe to call twice.
func (e *Exporter) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	return nil
}

// SubjectRef returns the pseudonymous reference of subject that manifests
// carry instead of the subject's ID: 32 hex digits of HMAC-SHA256 under
// Options.SubjectKey.
func (e *Exporter) SubjectRef(subject personaldata.SubjectID) string {
	m := hmac.New(sha256.New, e.refKey)
	m.Write([]byte("personaldata/export subject v1\x00"))
	m.Write([]byte(subject))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// job is one export in progress.
type job struct {
	e       *Exporter
	req     Request
	id      ulid.ULID
	now     time.Time
	include []*registration
	omit    []Omission
	mapKeys map[personaldata.Category][]string // columns of map records, per category
}

// start validates req and resolves its categories.
func (e *Exporter) start(req Request) (*job, error) {
	if req.Kind == 0 {
		req.Kind = Access
	}
	if req.Kind != Access && req.Kind != Portability {
		return nil, fmt.Errorf("%w: kind %d", ErrInvalidRequest, uint8(req.Kind))
	}
	if err := req.Subject.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	cats := slices.Clone(e.cats)
	now := e.opts.Now()
	id, err := ulid.New(ulid.Timestamp(now), e.entropy)
	e.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("export: export ID: %w", err)
	}
	j := &job{e: e, req: req, id: id, now: now}
	for _, name := range req.Categories {
		if !slices.ContainsFunc(cats, func(r *registration) bool { return r.cat.Name == name }) {
			return nil, fmt.Errorf("%w: %s", ErrUnknownCategory, quoteCategory(name))
		}
	}
	for name := range req.Withhold {
		if !slices.ContainsFunc(cats, func(r *registration) bool { return r.cat.Name == name }) {
			return nil, fmt.Errorf("%w: withheld %s", ErrUnknownCategory, quoteCategory(name))
		}
	}
	for _, r := range cats {
		if req.Categories != nil && !slices.Contains(req.Categories, r.cat.Name) {
			continue
		}
		if why, ok := req.Withhold[r.cat.Name]; ok {
			if why == "" || !utf8.ValidString(why) {
				return nil, fmt.Errorf("%w: the reason to withhold %s must be UTF-8 text", ErrInvalidRequest, r.cat.Name)
			}
			j.omit = append(j.omit, Omission{Category: r.cat.Name, Reason: why})
			continue
		}
		if req.Kind == Portability && !r.cat.Portable {
			j.omit = append(j.omit, Omission{Category: r.cat.Name,
				Reason: "not within the right to data portability (GDPR Art. 20): " + r.cat.Origin.String() + " data; it is in an access package"})
			continue
		}
		j.include = append(j.include, r)
	}
	return j, nil
}

// registration looks up one category for the single-category writers.
func (e *Exporter) lookup(name personaldata.Category) (*registration, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	for _, r := range e.cats {
		if r.cat.Name == name {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownCategory, quoteCategory(name))
}

func quoteCategory(c personaldata.Category) string { return quote.String(string(c)) }

// Omission is a category left out of an export, and why.
type Omission struct {
	Category personaldata.Category `json:"category"`
	Reason   string                `json:"reason"`
}
