package consent_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// A checkpoint signed today lets tomorrow's ledger notice that the last
// withdrawal was deleted from the database, and lets an auditor check one
// subject's entry without seeing anyone else's.
func ExampleLedger_Checkpoint() {
	ctx := context.Background()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)) // keep it in a secret store
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	store := consent.NewMemoryStore()
	opts := &consent.Options{
		Clock:         func() time.Time { return now },
		CheckpointKey: key,
		Purposes:      []consent.Purpose{{ID: "newsletter", Basis: personaldata.Consent, Since: now.AddDate(-1, 0, 0)}},
	}
	l, _ := consent.New(ctx, store, opts)
	for _, s := range []personaldata.SubjectID{"customer-1017", "customer-1018", "customer-1019"} {
		_, _ = l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: s, Purpose: "newsletter",
			Method: consent.MethodForm, Actor: consent.ActorSubject})
	}
	cp, _ := l.Checkpoint(ctx)
	text, _ := cp.MarshalText() // the host keeps this anywhere but the store

	// An auditor holds the note and the public key, and gets one leaf.
	pub := key.Public().(ed25519.PublicKey)
	leaf, index, path, _ := cp.InclusionProof("customer-1018")
	err := consent.VerifyInclusion(cp.Note(), consent.DefaultCheckpointName, pub, leaf, index, path)
	fmt.Println("subjects:", len(cp.Leaves), "inclusion of customer-1018 verified:", err == nil)

	// A restarted ledger given the checkpoint checks every chain against it.
	opts.Checkpoint = text
	l2, err := consent.New(ctx, store, opts)
	fmt.Println("restart:", err)
	_, err = l2.Decide(ctx, "customer-1017", "newsletter", now)
	fmt.Println("decide:", err)

	// A store restored from an older backup, without those grants, is caught.
	l3, _ := consent.New(ctx, consent.NewMemoryStore(), opts)
	_, err = l3.Decide(ctx, "customer-1017", "newsletter", now)
	fmt.Println("decide after a restore:", errors.Is(err, consent.ErrTampered))
	fmt.Println(err)
	// Output:
	// subjects: 3 inclusion of customer-1018 verified: true
	// restart: <nil>
	// decide: <nil>
	// decide after a restore: true
	// consent: decide: consent: chain of subject "customer-1017" broken at event 0: truncated: the store has no events, the checkpoint holds 1
}
