package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for -postgres

	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/retention"
	"github.com/personaldata/personaldata/sqlstore"
)

// stores is all the storage the library needs. It is opened here and only
// here: moving a store from SQLite to PostgreSQL, or to an implementation of
// your own, is a change to this file.
type stores struct {
	keys    pii.KeyStore        // wrapped data keys: apart from the data they protect
	holds   retention.HoldStore // legal holds
	consent consent.Store       // consent events, purposes and notice versions
	erasure erasure.Stores      // requests, receipts and the suppression list
	where   string              // said in the tour
	close   func() error
}

// besideData names a database file beside the data database: data.db and
// "keys" give data-keys.db.
func besideData(dataPath, name string) string {
	ext := filepath.Ext(dataPath)
	return strings.TrimSuffix(dataPath, ext) + "-" + name + ext
}

// openStores opens the library's stores. The wrapped keys go to a database
// of their own, so that restoring a backup of the data never brings a
// shredded key back; the legal holds, the consent ledger and the erasure
// request log go to another, kept out of the data's backups too, as the
// restore guard (erasure.Service.Reapply) works from it. With -postgres all
// of them go to that PostgreSQL database instead. The provider's own data
// lives in a third database (openData).
func openStores(ctx context.Context, cfg config) (_ *stores, err error) {
	var (
		keysDB, recordsDB *sql.DB
		dialect           sqlstore.Dialect
		opts              sqlstore.Options
		where             string
		closers           []func() error
	)
	closeAll := func() error {
		var err error
		for i := len(closers) - 1; i >= 0; i-- {
			err = errors.Join(err, closers[i]())
		}
		return err
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	if cfg.postgres != "" {
		db, err := sql.Open("pgx", cfg.postgres)
		if err != nil {
			return nil, err
		}
		keysDB, recordsDB, dialect = db, db, sqlstore.PostgreSQL
		// Tables of this run only, dropped at the end.
		opts.TablePrefix = "mailservice_" + randomHex(4) + "_"
		closers = append(closers, db.Close, func() error { return dropTables(db, opts.TablePrefix) })
		where = "wrapped keys, legal holds, consent ledger and request log in PostgreSQL"
	} else {
		dialect = sqlstore.SQLite
		for _, f := range []struct {
			db   **sql.DB
			name string
		}{{&keysDB, "keys"}, {&recordsDB, "records"}} {
			db, err := sql.Open("sqlite", "file:"+besideData(cfg.dbPath, f.name)+"?_pragma=busy_timeout(5000)")
			if err != nil {
				return nil, err
			}
			*f.db = db
			closers = append(closers, db.Close)
		}
		where = "wrapped keys in " + filepath.Base(besideData(cfg.dbPath, "keys")) +
			"; legal holds, consent ledger and request log in " + filepath.Base(besideData(cfg.dbPath, "records"))
	}
	keys, err := sqlstore.OpenKeyStore(ctx, keysDB, dialect, &opts)
	if err != nil {
		return nil, err
	}
	closers = append(closers, keys.Close)
	holds, err := sqlstore.OpenHoldStore(ctx, recordsDB, dialect, &opts)
	if err != nil {
		return nil, err
	}
	closers = append(closers, holds.Close)
	ledger, err := sqlstore.OpenConsentStore(ctx, recordsDB, dialect, &opts)
	if err != nil {
		return nil, err
	}
	closers = append(closers, ledger.Close)
	requests, err := sqlstore.OpenErasureStore(ctx, recordsDB, dialect, &opts)
	if err != nil {
		return nil, err
	}
	closers = append(closers, requests.Close)
	return &stores{keys: keys, holds: holds, consent: ledger, erasure: requests.Stores(), where: where, close: closeAll}, nil
}

// dropTables drops the tables a -postgres run made, as documented in
// package sqlstore.
func dropTables(db *sql.DB, prefix string) error {
	var err error
	for _, t := range []string{"suppression", "receipts", "requests", "consent_definitions", "consent_events",
		"consent_heads", "holds", "keys", "subjects", "migrations"} {
		_, derr := db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+prefix+t)
		err = errors.Join(err, derr)
	}
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
