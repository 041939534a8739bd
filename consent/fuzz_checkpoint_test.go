package consent_test

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// FuzzParseCheckpoint feeds arbitrary text as a checkpoint: parsing never
// panics, and what parses marshals back to the same text.
func FuzzParseCheckpoint(f *testing.F) {
	pub := checkpointKey.Public().(ed25519.PublicKey)
	for _, n := range []int{0, 1, 3} {
		l, err := checkpointLedger(f, consent.NewMemoryStore(), nil)
		if err != nil {
			f.Fatal(err)
		}
		for i := range n {
			if _, err := l.Record(context.Background(), consent.Change{Type: consent.EventGrant, Subject: personaldata.SubjectID(rune('a' + i)),
				Purpose: newsletter, Method: consent.MethodForm, Actor: consent.ActorSubject}); err != nil {
				f.Fatal(err)
			}
		}
		c, err := l.Checkpoint(context.Background())
		if err != nil {
			f.Fatal(err)
		}
		text, _ := c.MarshalText()
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := consent.ParseCheckpoint(text, consent.DefaultCheckpointName, pub)
		if err != nil {
			return
		}
		back, err := c.MarshalText()
		if err != nil || string(back) != string(text) {
			t.Fatalf("parsed checkpoint does not marshal back: %v\n%q\n%q", err, text, back)
		}
		for _, lf := range c.Leaves {
			leaf, i, path, err := c.InclusionProof(lf.Subject)
			if err != nil {
				t.Fatal(err)
			}
			if err := consent.VerifyInclusion(c.Note(), consent.DefaultCheckpointName, pub, leaf, i, path); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzStoredDefinition feeds arbitrary bytes as a stored purpose or notice
// version: New never panics, and either loads it or reports it tampered.
func FuzzStoredDefinition(f *testing.F) {
	f.Fuzz(func(t *testing.T, notice bool, id string, data []byte) {
		kind := consent.DefinitionPurpose
		if notice {
			kind = consent.DefinitionNotice
		}
		st := consent.NewMemoryStore()
		ctx := context.Background()
		if err := st.Define(ctx, consent.StoredDefinition{Kind: consent.DefinitionPurpose, ID: "newsletter",
			Data: []byte(`{"v":1,"id":"newsletter","basis":"consent","default":1,"since":"2020-01-01T00:00:00Z"}`)}); err != nil {
			t.Fatal(err)
		}
		if err := st.Define(ctx, consent.StoredDefinition{Kind: kind, ID: id, Data: data}); err != nil {
			return
		}
		l, err := consent.New(ctx, st, nil)
		if err != nil {
			return
		}
		_ = l.Notices()
		_ = l.Purposes()
	})
}
