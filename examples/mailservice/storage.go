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
// here: moving a store from memory to SQL, or from SQLite to PostgreSQL, is a
// change to this file.
type stores struct {
	keys    pii.KeyStore        // wrapped data keys: apart from the data they protect
	holds   retention.HoldStore // legal holds
	consent consent.Store       // consent events, purposes and notice versions
	erasure erasure.Stores      // requests, receipts and the suppression list
	where   string              // said in the tour
	close   func() error
}

// keysPath is where the key database goes beside the data database:
// data.db gives data-keys.db.
func keysPath(dataPath string) string {
	ext := filepath.Ext(dataPath)
	return strings.TrimSuffix(dataPath, ext) + "-keys" + ext
}

// openStores opens the library's stores: the key store and the hold store in
// a database of their own (a SQLite file beside the data database, or the
// PostgreSQL database of -postgres), the consent ledger and the request log
// in memory. The provider's own data lives in another database (openData).
func openStores(ctx context.Context, cfg config) (*stores, error) {
	var (
		db      *sql.DB
		dialect sqlstore.Dialect
		opts    sqlstore.Options
		where   string
		err     error
	)
	if cfg.postgres != "" {
		db, err = sql.Open("pgx", cfg.postgres)
		dialect = sqlstore.PostgreSQL
		// Tables of this run only, dropped at the end.
		opts.TablePrefix = "mailservice_" + randomHex(4) + "_"
		where = "wrapped keys and legal holds in PostgreSQL"
	} else {
		db, err = sql.Open("sqlite", "file:"+keysPath(cfg.dbPath)+"?_pragma=busy_timeout(5000)")
		dialect = sqlstore.SQLite
		where = "wrapped keys and legal holds in " + filepath.Base(keysPath(cfg.dbPath)) + " (SQLite)"
	}
	if err != nil {
		return nil, err
	}
	keys, err := sqlstore.OpenKeyStore(ctx, db, dialect, &opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	holds, err := sqlstore.OpenHoldStore(ctx, db, dialect, &opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	mem := erasure.NewMemoryStore()
	return &stores{
		keys:    keys,
		holds:   holds,
		consent: consent.NewMemoryStore(),
		erasure: mem.Stores(),
		where:   where + "; consent ledger and request log in memory",
		close: func() error {
			err := errors.Join(keys.Close(), holds.Close())
			if cfg.postgres != "" {
				for _, t := range []string{"holds", "keys", "subjects", "migrations"} {
					_, derr := db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+opts.TablePrefix+t)
					err = errors.Join(err, derr)
				}
			}
			return errors.Join(err, db.Close())
		},
	}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
