package consent

import (
	"bytes"
	"context"
	"fmt"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// head is a point a chain must pass through: its first seq events end in
// hash. A running ledger holds one per subject (the last verified state),
// and a checkpoint one per subject it lists.
type head struct {
	seq  uint64
	hash [32]byte
}

// known returns the head a reload of st's subject must extend, nil if none.
func (st *subjectState) known() *head {
	switch {
	case st == nil:
		return nil
	case st.broken != nil:
		return st.anchor
	}
	return &head{seq: st.seq, hash: st.head}
}

// load reads subject's chain from the store, verifies it against known and
// builds its state. A broken chain is returned as a *ChainError, a store
// failure as the error.
func (l *Ledger) load(ctx context.Context, subject personaldata.SubjectID, reg *registry, known *head) (*subjectState, *ChainError, error) {
	recs, err := l.store.Events(ctx, subject)
	if err != nil {
		return nil, nil, fmt.Errorf("consent: load subject %s: %w", quote.String(string(subject)), err)
	}
	evs, cerr := l.verifyChain(subject, recs, known)
	if cerr != nil {
		return nil, cerr, nil
	}
	return (&subjectState{}).with(evs, reg), nil, nil
}

// Sync reloads subject's events from the store, for events another process
// appended. It verifies the chain, and that it extends the head this ledger
// last verified (or the checkpoint's); a chain that does not is returned as
// a [*ChainError] wrapping [ErrTampered], and the subject keeps its last
// verified state: decisions answer from it, and writes fail until the
// store is repaired. A subject without a verified state is marked broken.
func (l *Ledger) Sync(ctx context.Context, subject personaldata.SubjectID) error {
	if l.closed.Load() {
		return ErrClosed
	}
	s := l.slot(subject)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := l.state(subject)
	known := old.known()
	st, cerr, err := l.load(ctx, subject, l.reg.Load(), known)
	if err != nil {
		return err
	}
	if cerr != nil {
		if old == nil || old.broken != nil {
			l.setState(subject, brokenState(cerr, known))
		} else {
			kept := *old
			kept.refused = cerr
			l.setState(subject, &kept)
		}
		return cerr
	}
	l.setState(subject, st)
	return nil
}

// History returns subject's events in the order they were recorded, read
// from the store and verified as by [Ledger.Verify]: a broken chain is
// returned as a [*ChainError]. An unknown subject has an empty history.
// Personal data stays sealed; see [Ledger.Reveal].
func (l *Ledger) History(ctx context.Context, subject personaldata.SubjectID) ([]Event, error) {
	if l.closed.Load() {
		return nil, ErrClosed
	}
	recs, err := l.store.Events(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("consent: history of subject %s: %w", quote.String(string(subject)), err)
	}
	evs, cerr := l.verifyChain(subject, recs, l.state(subject).known())
	if cerr != nil {
		return nil, cerr
	}
	return evs, nil
}

// Verify checks subject's stored chain: every event decodes, matches its
// hash and links to its predecessor, and the chain passes through the head
// this ledger last verified (or, for a subject it has not seen since it
// started, the head of Options.Checkpoint), even when it is longer. The
// first broken link is reported as a [*ChainError] wrapping [ErrTampered];
// nil means the chain is intact. Verify changes no state; see [Ledger.Sync].
func (l *Ledger) Verify(ctx context.Context, subject personaldata.SubjectID) error {
	_, err := l.History(ctx, subject)
	return err
}

// verifyChain decodes and checks recs, and that the chain passes through
// known, if any.
func (l *Ledger) verifyChain(subject personaldata.SubjectID, recs []StoredEvent, known *head) ([]Event, *ChainError) {
	fail := func(i int, id ulid.ULID, p ChainProblem, detail string) *ChainError {
		return &ChainError{Subject: subject, Index: i, EventID: id, Problem: p, Detail: detail, Err: ErrTampered}
	}
	evs := make([]Event, 0, len(recs))
	var prev [32]byte
	for i, r := range recs {
		rid, _ := ulid.ParseStrict(r.ID)
		e, err := decodeEvent(r.Data)
		if err != nil {
			return nil, fail(i, rid, ChainEdited, err.Error())
		}
		h := l.hasher.sum(r.Data)
		if !bytes.Equal(h[:], r.Hash) {
			return nil, fail(i, e.ID, ChainEdited, "contents do not match the hash")
		}
		if e.Subject != subject || r.Subject != subject || r.Seq != e.Seq || r.ID != e.ID.String() || r.Purpose != e.Purpose {
			return nil, fail(i, e.ID, ChainMismatched, "row columns disagree with the hashed contents")
		}
		want := uint64(i) + 1
		switch {
		case e.Seq > want:
			for _, later := range recs[i+1:] {
				if later.Seq == want {
					return nil, fail(i, e.ID, ChainReordered, fmt.Sprintf("event %d found where %d belongs", e.Seq, want))
				}
			}
			return nil, fail(i, e.ID, ChainMissing, fmt.Sprintf("events %d to %d are missing", want, e.Seq-1))
		case e.Seq < want:
			return nil, fail(i, e.ID, ChainInserted, fmt.Sprintf("second event with number %d", e.Seq))
		}
		if e.PrevHash != prev {
			return nil, fail(i, e.ID, ChainInserted, "does not link to the previous event: this event was inserted, or the previous one edited and rehashed")
		}
		e.Hash = h
		prev = h
		evs = append(evs, e)
	}
	if known != nil && known.seq > 0 {
		n := uint64(len(evs))
		switch {
		case n < known.seq:
			return nil, fail(len(evs), ulid.ULID{}, ChainTruncated,
				fmt.Sprintf("the chain ends after %d of the %d events verified before", n, known.seq))
		case evs[known.seq-1].Hash != known.hash:
			i := int(known.seq - 1)
			return nil, fail(i, evs[i].ID, ChainRewritten,
				fmt.Sprintf("event %d is not the head verified before: the chain was rewritten from here or earlier", known.seq))
		}
	}
	return evs, nil
}
