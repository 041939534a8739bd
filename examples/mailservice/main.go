// Command mailservice is a tour of the personaldata library: a small mail and
// hosting provider, modelled on the privacy statements of Dutch providers
// (Ecomail, Sendtrix, Postex, PCextreme, mx-relay), keeps every promise of its
// statement in code, from a customer's sign-up to the erasure of their last
// invoice seven years later.
//
//	go run ./examples/mailservice
//
// Everything is stored in SQLite files in a temporary directory, removed at
// the end: the provider's own data (customers, invoices) in one, the wrapped
// keys in another, so that a backup of the data does not bring back a
// shredded key, and the legal holds, the consent ledger and the erasure
// request log in a third. -db names the data file instead (the others are
// created beside it); -postgres puts the library's stores in PostgreSQL.
//
// Each step says what happens in plain words, and each promise is checked in
// code: the program exits with status 1 if one is broken. The clock is fixed
// and the randomness seeded, so the output is the same on every run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
)

// config is what the flags choose.
type config struct {
	dir      string // working directory for files: backups, exports, and the databases by default
	dbPath   string // the data database; "" means data.db in dir
	postgres string // DSN of a PostgreSQL database for the library's stores; "" means SQLite
}

func main() {
	dbPath := flag.String("db", "", "path of the SQLite data database to create; the key and records databases go beside it\n(default: in a temporary directory, removed at the end)")
	postgres := flag.String("postgres", "", "DSN of a PostgreSQL database for the keys, holds, consent ledger and request log,\nsuch as postgres://user@localhost:5432/db (the run's tables are dropped at the end)")
	flag.Parse()

	dir, err := os.MkdirTemp("", "mailservice-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailservice:", err)
		os.Exit(1)
	}
	err = run(context.Background(), os.Stdout, config{dir: dir, dbPath: *dbPath, postgres: *postgres})
	os.RemoveAll(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailservice:", err)
		os.Exit(1)
	}
}

// run tells the whole story to out. It returns an error if anything fails,
// and a *brokenError if a promise was not kept.
func run(ctx context.Context, out io.Writer, cfg config) error {
	if cfg.dbPath == "" {
		cfg.dbPath = cfg.dir + "/data.db"
	}
	for _, p := range []string{cfg.dbPath, besideData(cfg.dbPath, "keys"), besideData(cfg.dbPath, "records")} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s exists; the tour starts from empty databases", p)
		}
	}
	t, err := newTour(ctx, out, cfg)
	if err != nil {
		return err
	}
	defer t.Close()
	for _, step := range []func(context.Context) error{
		t.signUp,
		t.consentAndTestimonial,
		t.mailingDay,
		t.policyChange,
		t.closedAccountAndHold,
		t.restart,
		t.accessRequest,
		t.repeatedRequest,
		t.nightlySweep,
		t.erasureRequest,
		t.backupRestored,
		t.reimport,
		t.holdReleased,
		t.sevenYearsLater,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return t.verdict()
}

// brokenError lists the promises that were not kept.
type brokenError struct{ promises []string }

func (e *brokenError) Error() string {
	return fmt.Sprintf("%d promise(s) broken, first: %s", len(e.promises), e.promises[0])
}
