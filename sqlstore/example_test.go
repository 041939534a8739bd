package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
	_ "modernc.org/sqlite" // registers the "sqlite" driver, without cgo

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/retention"
	"github.com/personaldata/personaldata/sqlstore"
)

type Customer struct {
	ID      string `pii:"subject"`
	Email   string `pii:"email"`
	Name    string `pii:"name,redact=(erased)"`
	Invoice string `pii:"billing,scope=fiscal"`
}

// A key store in SQLite, shared by two Protectors as two processes would
// share it. Shredding the subject erases every copy of their data at once.
func Example_keyStore() {
	ctx := context.Background()
	// In memory for the example; a host opens a file of its own, apart
	// from the data it protects: "file:keys.db?_pragma=busy_timeout(5000)".
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // an in-memory database lives in one connection
	keys, err := sqlstore.OpenKeyStore(ctx, db, sqlstore.SQLite, nil)
	if err != nil {
		panic(err)
	}
	master := []byte("0123456789abcdef0123456789abcdef") // from a secret manager
	wrapper, err := pii.NewLocalKeyWrapper("kek-2026", master)
	if err != nil {
		panic(err)
	}
	web, _ := pii.New(keys, wrapper, nil)
	worker, _ := pii.New(keys, wrapper, nil)

	c := Customer{ID: "cust-42", Email: "ann@example.nl", Name: "Ann", Invoice: "INV-7 EUR 12.50"}
	if err := web.Protect(ctx, &c); err != nil {
		panic(err)
	}
	stored := c // what the host writes to its own database
	if err := worker.Reveal(ctx, &c); err != nil {
		panic(err)
	}
	fmt.Println("revealed:", c.Email, c.Name, c.Invoice)

	// Erase the person: the key of every scope goes, and no scope of
	// theirs ever gets a key again.
	if err := keys.ShredSubject(ctx, "cust-42", time.Now()); err != nil {
		panic(err)
	}
	reader, _ := pii.New(keys, wrapper, nil)
	err = reader.Reveal(ctx, &stored)
	fmt.Println("erased:", errors.Is(err, pii.ErrErased), stored.Name)
	err = reader.Protect(ctx, &Customer{ID: "cust-42", Email: "ann@example.org"})
	fmt.Println("forgotten:", errors.Is(err, pii.ErrForgotten))
	// Output:
	// revealed: ann@example.nl Ann INV-7 EUR 12.50
	// erased: true (erased)
	// forgotten: true
}

// Legal holds that survive a restart: a sweep run by any process sees a
// hold as soon as Place returns.
func ExampleOpenHoldStore() {
	ctx := context.Background()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	holds, err := sqlstore.OpenHoldStore(ctx, db, sqlstore.SQLite, &sqlstore.Options{TablePrefix: "privacy_"})
	if err != nil {
		panic(err)
	}
	placed := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	h := retention.Hold{
		ID:      ulid.MustParse("01JNDM0V00C3ZRTC4SE0RDER01"),
		Subject: "cust-42", Reason: "court order 2026/117", PlacedBy: "staff-7", PlacedAt: placed,
	}
	if err := holds.Place(ctx, h); err != nil {
		panic(err)
	}
	active, _ := holds.Active(ctx, "cust-42", "")
	fmt.Println(len(active), active[0])

	released, err := holds.Release(ctx, h.ID, placed.AddDate(0, 2, 0), "staff-9")
	if err != nil {
		panic(err)
	}
	fmt.Println(released, released.ReleasedAt.Format(time.DateOnly))
	active, _ = holds.Active(ctx, "cust-42", "")
	fmt.Println(len(active))
	// Output:
	// 1 hold 01JNDM0V00C3ZRTC4SE0RDER01 on subject "cust-42" (active)
	// hold 01JNDM0V00C3ZRTC4SE0RDER01 on subject "cust-42" (released) 2026-05-02
	// 0
}

// GetKeys reads a batch of keys in one query, whatever state each is in.
func ExampleKeyStore_GetKeys() {
	ctx := context.Background()
	db, _ := sql.Open("sqlite", ":memory:")
	defer db.Close()
	db.SetMaxOpenConns(1)
	keys, err := sqlstore.OpenKeyStore(ctx, db, sqlstore.SQLite, nil)
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ann := pii.KeyRef{Subject: "ann", Scope: personaldata.DefaultScope}
	bob := pii.KeyRef{Subject: "bob", Scope: "fiscal"}
	if _, err := keys.CreateKey(ctx, ann, pii.WrappedKey{KEKID: "kek-2026", Ciphertext: []byte("wrapped by the KEK")}, now); err != nil {
		panic(err)
	}
	if err := keys.ShredKeys(ctx, "bob", []personaldata.Scope{"fiscal"}, now.AddDate(7, 0, 0)); err != nil {
		panic(err)
	}
	got, err := keys.GetKeys(ctx, []pii.KeyRef{ann, bob, {Subject: "cy", Scope: "default"}})
	if err != nil {
		panic(err)
	}
	for _, k := range got {
		fmt.Println(k.Ref.Subject, k.Ref.Scope, k.State, k.ShreddedAt.Format(time.DateOnly))
	}
	// Output:
	// ann default active 0001-01-01
	// bob fiscal shredded 2033-03-02
	// cy default missing 0001-01-01
}
