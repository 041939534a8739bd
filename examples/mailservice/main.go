// Command mailservice is a tour of the personaldata library: a small mail and
// hosting provider, modelled on the privacy statements of Dutch providers
// (Ecomail, Sendtrix, Postex, PCextreme, mx-relay), keeps every promise of its
// statement in code, from a customer's sign-up to the erasure of their last
// invoice seven years later.
//
//	go run ./examples/mailservice
//
// It keeps the provider's own data (customers, invoices) in a SQLite file
// and the library's storage in memory, all under a temporary directory
// removed at the end; -db names the data file to keep it. Each step says what
// happens in plain words, and each promise is checked in code: the program
// exits with status 1 if one is broken. The clock is fixed and the randomness
// seeded, so the output is the same on every run.
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
	dir    string // working directory for files: the data database, backups, exports
	dbPath string // the data database; "" means data.db in dir
}

func main() {
	dbPath := flag.String("db", "", "path of the SQLite data database to create (default: in a temporary directory)")
	flag.Parse()

	dir, err := os.MkdirTemp("", "mailservice-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailservice:", err)
		os.Exit(1)
	}
	err = run(context.Background(), os.Stdout, config{dir: dir, dbPath: *dbPath})
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
	} else if _, err := os.Stat(cfg.dbPath); err == nil {
		return fmt.Errorf("-db %s: the file exists; the tour starts from an empty database", cfg.dbPath)
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
