package erasure

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/jws"
)

// ReceiptType is the JWS "typ" header of receipts.
const ReceiptType = "erasure-receipt+jwt"

// Receipt records what was done about a request, without personal data:
// the subject appears only as a keyed hash. Receipts are hash-chained (Seq,
// Prev) and signed as a compact JWS with EdDSA (Ed25519), so any JOSE
// library verifies one with the Service's public key; Token holds it.
//
// A final receipt is issued when a request is completed or refused; a
// supplementary one (Supplement set) each time RunDue later shreds kept
// scopes of it.
type Receipt struct {
	ID         ulid.ULID `json:"jti"`
	Issuer     string    `json:"iss,omitempty"`
	IssuedAt   int64     `json:"iat"` // Unix seconds, as in a JWT
	Seq        uint64    `json:"seq"`
	Prev       string    `json:"prev"` // hex SHA-256 of the previous receipt's token; "" for the first
	RequestID  ulid.ULID `json:"request"`
	Kind       Kind      `json:"kind"`
	Outcome    State     `json:"outcome"`
	Supplement bool      `json:"supplement,omitempty"`
	// SubjectRef is a keyed hash of the subject ID: the same subject has
	// the same reference in every receipt of one Service.
	SubjectRef string    `json:"subject_ref"`
	ReceivedAt time.Time `json:"received"`
	DoneAt     time.Time `json:"done"`
	Due        time.Time `json:"due"`
	Extension  string    `json:"extension,omitempty"` // the reason, if extended
	// Erased lists what was erased; Kept what was kept, why and until when.
	Erased     Erased             `json:"erased"`
	Kept       []KeptScope        `json:"kept,omitempty"`
	Recipients []RecipientOutcome `json:"recipients,omitempty"`
	Refusal    *Refusal           `json:"refusal,omitempty"`
	// Token is the signed receipt, a compact JWS. Not part of the payload.
	Token string `json:"-"`
}

// Erased is what an erasure removed.
type Erased struct {
	Scopes           []personaldata.Scope `json:"scopes,omitempty"`
	SubjectForgotten bool                 `json:"subject_forgotten,omitempty"`
	Systems          []SystemOutcome      `json:"systems,omitempty"`
	Suppressed       int                  `json:"suppressed,omitempty"` // identifiers added to the suppression list
}

// SystemOutcome is what one host system did, with the failures met on the
// way (retried until it succeeded).
type SystemOutcome struct {
	Name         string     `json:"name"`
	Removed      int        `json:"removed"`
	Anonymised   int        `json:"anonymised,omitempty"`
	IndexEntries int        `json:"index_entries,omitempty"`
	Retained     []Retained `json:"retained,omitempty"`
	Attempts     int        `json:"attempts"`
	Failures     []string   `json:"failures,omitempty"`
}

// KeptScope is a key scope kept past the request, and why.
type KeptScope struct {
	Scope       personaldata.Scope `json:"scope"`
	Until       time.Time          `json:"until"`
	RuleID      string             `json:"rule,omitempty"`
	Citation    string             `json:"citation,omitempty"`
	Explanation string             `json:"explanation,omitempty"`
}

// RecipientOutcome says whether a recipient was told.
type RecipientOutcome struct {
	Name     string `json:"name"`
	Notified bool   `json:"notified"`
}

// Refusal is why a request was refused.
type Refusal struct {
	Reason   string `json:"reason"`
	Evidence string `json:"evidence,omitempty"`
}

// SubjectRef returns the pseudonymous reference of subject in receipts.
func (s *Service) SubjectRef(subject personaldata.SubjectID) string {
	m := hmac.New(sha256.New, s.refKey)
	m.Write([]byte(subject))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Receipts returns the receipts of request id, oldest first, verified.
func (s *Service) Receipts(ctx context.Context, id ulid.ULID) ([]Receipt, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	stored, err := s.st.Receipts.ByRequest(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("erasure: receipts of %s: %w", id, err)
	}
	out := make([]Receipt, 0, len(stored))
	for _, sr := range stored {
		rc, err := Verify(sr.Token, s.PublicKey())
		if err != nil {
			return nil, err
		}
		out = append(out, rc)
	}
	return out, nil
}

// Receipt returns the final receipt of a completed or refused request,
// issuing it if it is missing: Refuse, Complete and Execute record the
// outcome before they issue the receipt, so if issuing failed (a store
// error, a clock behind the chain) the request is final without one until
// Receipt (or the same call) is made again. It fails with ErrWrongState for
// an open request.
func (s *Service) Receipt(ctx context.Context, id ulid.ULID) (*Receipt, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !r.State.Final() {
		return nil, fmt.Errorf("%w: request %s is %s", ErrWrongState, id, r.State)
	}
	return s.ensureReceipt(ctx, &r)
}

// ensureReceipt issues the final receipt of a completed or refused request
// unless it exists. The check and the issue happen under the chain lock,
// so concurrent calls in one process issue one receipt.
func (s *Service) ensureReceipt(ctx context.Context, r *Request) (*Receipt, error) {
	s.chainMu.Lock()
	defer s.chainMu.Unlock()
	have, err := s.st.Receipts.ByRequest(ctx, r.ID)
	if err != nil {
		return nil, fmt.Errorf("erasure: receipt of %s: %w", r.ID, err)
	}
	for _, sr := range have {
		rc, err := Verify(sr.Token, s.PublicKey())
		if err != nil {
			return nil, err
		}
		if !rc.Supplement {
			return &rc, nil
		}
	}
	rc := s.receiptFor(r, false, nil)
	if _, err := s.issueLocked(ctx, rc, nil); err != nil {
		return nil, err
	}
	return rc, nil
}

// receiptFor describes r. For a supplement, only steps done lists what was
// done this time.
func (s *Service) receiptFor(r *Request, supplement bool, done []int) *Receipt {
	rc := &Receipt{
		Issuer: s.o.Issuer, RequestID: r.ID, Kind: r.Kind, Outcome: r.State, Supplement: supplement,
		SubjectRef: s.SubjectRef(r.Subject), ReceivedAt: r.ReceivedAt.UTC(), DoneAt: r.UpdatedAt.UTC(), Due: r.Due.UTC(),
	}
	for _, t := range r.History {
		switch t.To {
		case StateExtended:
			rc.Extension = t.Reason
		case StateRefused:
			rc.Refusal = &Refusal{Reason: t.Reason, Evidence: t.Evidence}
		}
	}
	include := func(i int) bool {
		if !supplement {
			return true
		}
		for _, d := range done {
			if d == i {
				return true
			}
		}
		return false
	}
	for i, st := range r.Steps {
		switch {
		case st.State == StepScheduled && st.Kind == StepShredLater:
			rc.Kept = append(rc.Kept, KeptScope{Scope: st.Scopes[0], Until: st.Due.UTC(), RuleID: st.RuleID, Citation: st.Citation, Explanation: st.Explanation})
		case st.State != StepDone || !include(i):
		case st.Kind == StepShred || st.Kind == StepShredLater:
			rc.Erased.Scopes = append(rc.Erased.Scopes, st.Scopes...)
		case st.Kind == StepForgetSubject:
			rc.Erased.Scopes = append(rc.Erased.Scopes, st.Scopes...)
			rc.Erased.SubjectForgotten = true
		case st.Kind == StepSuppress:
			rc.Erased.Suppressed = len(r.Digests)
		case st.Kind == StepErase:
			rc.Erased.Systems = append(rc.Erased.Systems, SystemOutcome{Name: st.Name, Removed: st.Removed, Anonymised: st.Anonymised, IndexEntries: st.IndexEntries, Retained: st.Retained, Attempts: st.Attempts, Failures: st.Failures})
		case st.Kind == StepNotify:
			rc.Recipients = append(rc.Recipients, RecipientOutcome{Name: st.Name, Notified: true})
		}
	}
	return rc
}

// issue chains, signs and stores rc.
func (s *Service) issue(ctx context.Context, rc *Receipt) error {
	s.chainMu.Lock()
	defer s.chainMu.Unlock()
	_, err := s.issueLocked(ctx, rc, nil)
	return err
}

// issueLocked appends rc after head (read from the store if nil) and
// returns the stored receipt. The caller holds chainMu.
func (s *Service) issueLocked(ctx context.Context, rc *Receipt, head *StoredReceipt) (StoredReceipt, error) {
	for attempt := 0; ; attempt++ {
		now := s.o.Now()
		if head == nil {
			last, err := s.st.Receipts.Last(ctx)
			switch {
			case errors.Is(err, ErrNotFound):
			case err != nil:
				return StoredReceipt{}, fmt.Errorf("erasure: receipt chain: %w", err)
			default:
				head = &last
			}
		}
		rc.Seq, rc.Prev = 1, ""
		if head != nil {
			if now.Before(head.IssuedAt) {
				return StoredReceipt{}, fmt.Errorf("%w: receipt chain head was issued after now", ErrClockBackwards)
			}
			sum := sha256.Sum256([]byte(head.Token))
			rc.Seq, rc.Prev = head.Seq+1, hex.EncodeToString(sum[:])
		}
		var err error
		if rc.ID, err = s.newID(now); err != nil {
			return StoredReceipt{}, err
		}
		rc.IssuedAt = now.Unix()
		payload, err := json.Marshal(rc)
		if err != nil {
			return StoredReceipt{}, fmt.Errorf("erasure: encode receipt: %w", err)
		}
		if rc.Token, err = jws.Sign(s.sign, s.o.KeyID, ReceiptType, payload); err != nil {
			return StoredReceipt{}, fmt.Errorf("erasure: sign receipt: %w", err)
		}
		sr := StoredReceipt{Seq: rc.Seq, ID: rc.ID, RequestID: rc.RequestID, IssuedAt: now, Token: rc.Token}
		err = s.st.Receipts.Append(ctx, sr)
		if errors.Is(err, ErrConflict) && attempt < 5 {
			head = nil // another process appended; chain onto its receipt
			continue
		}
		if err != nil {
			return StoredReceipt{}, fmt.Errorf("erasure: store receipt: %w", err)
		}
		return sr, nil
	}
}

// Verify checks a receipt token's signature with pub and decodes it
// strictly. Errors wrap ErrInvalidReceipt. It checks one receipt; use
// VerifyChain for the links between receipts.
func Verify(token string, pub ed25519.PublicKey) (Receipt, error) {
	tok, err := jws.Verify(token, pub)
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: %w", ErrInvalidReceipt, err)
	}
	if tok.Header.Typ != ReceiptType {
		return Receipt{}, fmt.Errorf("%w: typ is not %s", ErrInvalidReceipt, ReceiptType)
	}
	var rc Receipt
	dec := json.NewDecoder(bytes.NewReader(tok.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rc); err != nil || dec.More() {
		return Receipt{}, fmt.Errorf("%w: payload does not decode", ErrInvalidReceipt)
	}
	if rc.Seq == 0 || (rc.Seq == 1) != (rc.Prev == "") || rc.SubjectRef == "" || rc.RequestID == (ulid.ULID{}) ||
		rc.Kind == 0 || !rc.Outcome.Final() {
		return Receipt{}, fmt.Errorf("%w: missing fields", ErrInvalidReceipt)
	}
	rc.Token = token
	return rc, nil
}

// VerifyChain verifies tokens, a run of consecutive receipts oldest first,
// and the hash links between them. The first token's own Prev is not
// checked unless it is the first receipt of the chain (Seq 1).
func VerifyChain(tokens []string, pub ed25519.PublicKey) ([]Receipt, error) {
	out := make([]Receipt, 0, len(tokens))
	for i, t := range tokens {
		rc, err := Verify(t, pub)
		if err != nil {
			return nil, fmt.Errorf("receipt %d: %w", i, err)
		}
		if i > 0 {
			prev := out[i-1]
			sum := sha256.Sum256([]byte(prev.Token))
			if rc.Seq != prev.Seq+1 || rc.Prev != hex.EncodeToString(sum[:]) || rc.IssuedAt < prev.IssuedAt {
				return nil, fmt.Errorf("%w: receipt %d does not follow receipt %d", ErrInvalidReceipt, rc.Seq, prev.Seq)
			}
		}
		out = append(out, rc)
	}
	return out, nil
}

// VerifyReceipts verifies the whole receipt chain in the store and returns
// the number of receipts checked.
func (s *Service) VerifyReceipts(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var after uint64
	var last string
	n := 0
	for {
		page, err := s.st.Receipts.Since(ctx, after, 1000)
		if err != nil {
			return n, fmt.Errorf("erasure: verify receipts: %w", err)
		}
		if len(page) == 0 {
			return n, nil
		}
		tokens := make([]string, 0, len(page)+1)
		if last != "" {
			tokens = append(tokens, last)
		}
		for _, sr := range page {
			tokens = append(tokens, sr.Token)
		}
		rcs, err := VerifyChain(tokens, s.PublicKey())
		if err != nil {
			return n, err
		}
		if after == 0 && rcs[0].Seq != 1 {
			return n, fmt.Errorf("%w: chain does not start at 1", ErrInvalidReceipt)
		}
		for i, sr := range page {
			rc := rcs[len(rcs)-len(page)+i]
			if rc.Seq != sr.Seq || rc.ID != sr.ID || rc.RequestID != sr.RequestID {
				return n, fmt.Errorf("%w: stored row %d disagrees with its token", ErrInvalidReceipt, sr.Seq)
			}
		}
		n += len(page)
		after = page[len(page)-1].Seq
		last = page[len(page)-1].Token
	}
}
