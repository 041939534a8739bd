package sqlstore_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/sqlstore"
)

// FuzzConsentEventRow stores an arbitrary row in place of the second of a
// subject's three events, in an SQLite database, and reads it back through
// the store and a ledger. The store must return the row byte for byte (a
// negative seq as 0) and never fail to read it; the ledger must report
// every row but the original as a *consent.ChainError wrapping
// consent.ErrTampered, never panic, and still start and serve the other
// subject.
//
// mode takes parts of the original row, so that seeds can say "the
// original, truncated" without holding it: bit 0 the original data with
// data XORed over its start, bit 1 the original hash with hash XORed over
// it, bit 2 the original ID and purpose; bits 3 and 4 then cut the data
// and the hash to len(data) and len(hash) bytes.
func FuzzConsentEventRow(f *testing.F) {
	ctx := f.Context()
	db := openSQLiteMemory(f)
	s, err := sqlstore.OpenConsentStore(ctx, db, sqlstore.SQLite, &sqlstore.Options{TablePrefix: "pd_"})
	if err != nil {
		f.Fatal(err)
	}
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := func() *consent.Options {
		return &consent.Options{Clock: func() time.Time { return at }, Entropy: rand.NewChaCha8([32]byte{1}), Purposes: consentPurposes()}
	}
	l, err := consent.New(ctx, s, opts())
	if err != nil {
		f.Fatal(err)
	}
	for _, subj := range []personaldata.SubjectID{"ann", "ann", "ann", "bob"} {
		if _, err := l.Record(ctx, grant(subj, consentSince)); err != nil {
			f.Fatal(err)
		}
	}
	orig, err := s.Events(ctx, "ann")
	if err != nil || len(orig) != 3 {
		f.Fatalf("setup: %d events, %v", len(orig), err)
	}
	o := orig[1]
	f.Add(int64(2), o.ID, string(o.Purpose), o.Data, o.Hash, uint8(0)) // the original row, given whole
	f.Fuzz(func(t *testing.T, seq int64, id, purpose string, data, hash []byte, mode uint8) {
		row := consent.StoredEvent{Subject: "ann", ID: id, Purpose: consent.PurposeID(purpose), Data: data, Hash: hash}
		if seq >= 0 {
			row.Seq = uint64(seq)
		}
		if mode&1 != 0 {
			row.Data = overlay(o.Data, data)
		}
		if mode&2 != 0 {
			row.Hash = overlay(o.Hash, hash)
		}
		if mode&4 != 0 {
			row.ID, row.Purpose = o.ID, o.Purpose
		}
		if mode&8 != 0 && len(data) < len(row.Data) {
			row.Data = row.Data[:len(data)]
		}
		if mode&16 != 0 && len(hash) < len(row.Hash) {
			row.Hash = row.Hash[:len(hash)]
		}
		exec := func(q string, args ...any) {
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec("DELETE FROM pd_consent_events WHERE subject = 'ann'")
		for _, e := range []consent.StoredEvent{orig[0], orig[2]} {
			exec("INSERT INTO pd_consent_events (subject, seq, id, purpose, data, hash) VALUES (?, ?, ?, ?, ?, ?)", "ann", int64(e.Seq), e.ID, string(e.Purpose), e.Data, e.Hash)
		}
		exec("INSERT OR REPLACE INTO pd_consent_events (subject, seq, id, purpose, data, hash) VALUES (?, ?, ?, ?, ?, ?)",
			"ann", seq, row.ID, string(row.Purpose), nonEmpty(row.Data), nonEmpty(row.Hash))

		got, err := s.Events(ctx, "ann")
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		found := false
		for i, e := range got {
			if i > 0 && e.Seq < got[i-1].Seq {
				t.Fatalf("events out of order: %d after %d", e.Seq, got[i-1].Seq)
			}
			if e.Seq == row.Seq && e.ID == row.ID {
				found = found || e.Purpose == row.Purpose && bytes.Equal(e.Data, row.Data) && bytes.Equal(e.Hash, row.Hash)
			}
		}
		if !found {
			t.Fatalf("the stored row did not come back byte for byte")
		}

		intact := row.Seq == 2 && row.ID == o.ID && row.Purpose == o.Purpose && bytes.Equal(row.Data, o.Data) && bytes.Equal(row.Hash, o.Hash)
		err = l.Verify(ctx, "ann")
		var ce *consent.ChainError
		switch {
		case intact && err != nil:
			t.Fatalf("the original row fails to verify: %v", err)
		case !intact && (!errors.As(err, &ce) || !errors.Is(err, consent.ErrTampered)):
			t.Fatalf("an altered row verifies as %v", err)
		}
		l2, err := consent.New(ctx, s, opts())
		if err != nil {
			t.Fatalf("a ledger does not start over an altered row: %v", err)
		}
		if d, err := l2.Decide(ctx, "bob", "newsletter", at); err != nil || !d.Allowed {
			t.Fatalf("another subject is not served: %v, %v", d, err)
		}
	})
}

// overlay returns a copy of orig with x XORed over its start.
func overlay(orig, x []byte) []byte {
	out := bytes.Clone(orig)
	for i := range min(len(out), len(x)) {
		out[i] ^= x[i]
	}
	return out
}

func nonEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
