package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/sqlstore"
)

// A consent ledger over SQLite: what one ledger records, another started
// later over the same database answers the same way, purposes and notice
// versions included.
func ExampleOpenConsentStore() {
	ctx := context.Background()
	// In memory for the example; a host opens a file or a server.
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // an in-memory database lives in one connection

	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return since.AddDate(0, 2, 0) }
	store, err := sqlstore.OpenConsentStore(ctx, db, sqlstore.SQLite, nil)
	if err != nil {
		panic(err)
	}
	ledger, err := consent.New(ctx, store, &consent.Options{Clock: clock, Purposes: []consent.Purpose{
		{ID: "newsletter", Basis: personaldata.Consent, DirectMarketing: true, Since: since},
	}})
	if err != nil {
		panic(err)
	}
	_, err = ledger.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "cust-42", Purpose: "newsletter",
		EffectiveAt: since.AddDate(0, 1, 0), Method: consent.MethodForm, Actor: consent.ActorSubject})
	if err != nil {
		panic(err)
	}

	// Later, in another process: a new store on the same database.
	again, err := sqlstore.OpenConsentStore(ctx, db, sqlstore.SQLite, nil)
	if err != nil {
		panic(err)
	}
	restarted, err := consent.New(ctx, again, &consent.Options{Clock: clock})
	if err != nil {
		panic(err)
	}
	for _, at := range []time.Time{since, since.AddDate(0, 2, 0)} {
		d, err := restarted.Decide(ctx, "cust-42", "newsletter", at)
		if err != nil {
			panic(err)
		}
		fmt.Println(at.Format("2006-01-02"), "newsletter allowed:", d.Allowed)
	}
	fmt.Println("purposes:", len(restarted.Purposes()), "verified:", restarted.Verify(ctx, "cust-42") == nil)
	// Output:
	// 2026-01-01 newsletter allowed: false
	// 2026-03-01 newsletter allowed: true
	// purposes: 1 verified: true
}
