package sqlstore_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/sqlstore"
)

// An erasure Service keeping its requests, receipts and suppression list
// in SQLite, beside a key store. A second Service on the same database, as
// after a restart, finds the erased person on the suppression list.
func ExampleOpenErasureStore() {
	ctx := context.Background()
	// In memory for the example; keep the request log in a database whose
	// backups are not restored over it, such as the key database.
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	log, err := sqlstore.OpenErasureStore(ctx, db, sqlstore.SQLite, nil)
	if err != nil {
		panic(err)
	}
	keys, err := sqlstore.OpenKeyStore(ctx, db, sqlstore.SQLite, nil)
	if err != nil {
		panic(err)
	}
	wrapper, _ := pii.NewLocalKeyWrapper("kek-2026", []byte("0123456789abcdef0123456789abcdef"))
	protector, _ := pii.New(keys, wrapper, nil)
	secrets := erasure.Keys{
		Signing: ed25519.NewKeyFromSeed(make([]byte, 32)),   // from a secret manager
		Hash:    []byte("a 32-byte secret from a manager!"), // idem
	}
	now := func() time.Time { return time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC) }
	opts := &erasure.Options{Now: now, Entropy: rand.NewChaCha8([32]byte{})}
	svc, err := erasure.New(log.Stores(), protector, secrets, opts)
	if err != nil {
		panic(err)
	}

	r, _ := svc.Submit(ctx, erasure.Submission{Subject: "cust-42", Kind: erasure.KindErasure, Actor: "subject",
		Identifiers: []erasure.Identifier{erasure.Email("ann@example.nl")}})
	_, _ = svc.VerifyIdentity(ctx, r.ID, "staff-7")
	r, receipt, err := svc.Execute(ctx, r.ID, "staff-7")
	if err != nil {
		panic(err)
	}
	fmt.Println(r.State, "with", len(r.Steps), "steps; receipt", receipt.Seq)

	restarted, _ := erasure.New(log.Stores(), protector, secrets, opts)
	hits, _ := restarted.Suppressed(ctx, erasure.Email("Ann@Example.nl"), erasure.Email("bob@example.nl"))
	fmt.Println("suppressed:", len(hits), "of 2, by request", hits[0].RequestID == r.ID)
	n, err := restarted.VerifyReceipts(ctx)
	fmt.Println("receipts verified:", n, err)
	// Output:
	// completed with 2 steps; receipt 1
	// suppressed: 1 of 2, by request true
	// receipts verified: 1 <nil>
}
