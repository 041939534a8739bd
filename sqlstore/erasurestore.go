package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/personaldata/personaldata/erasure"
)

// ErasureStore keeps the records of an [erasure.Service] on database/sql:
// it is an [erasure.RequestStore], an [erasure.ReceiptStore] and an
// [erasure.SuppressionStore] ([ErasureStore.Stores] hands it to
// erasure.New as all three). It is safe for concurrent use by many
// goroutines and by many processes sharing one database.
//
// Create it with [OpenErasureStore]. The request log is what
// erasure.Service.Reapply works from after a backup restore: keep it out
// of the backups of the data it erases, or restore it from a later copy
// (see the package documentation, "Erasure stores").
type ErasureStore struct {
	b *base
	q erasureQueries
}

var (
	_ erasure.RequestStore     = (*ErasureStore)(nil)
	_ erasure.ReceiptStore     = (*ErasureStore)(nil)
	_ erasure.SuppressionStore = (*ErasureStore)(nil)
)

// erasureQueries are the statements of an ErasureStore, built once for
// its dialect and table prefix.
type erasureQueries struct {
	insertRequest, getRequest, updateRequest, requestVersion string
	listHead, openStates                                     string
	receiptHead, insertReceipt, receiptExists                string
	lastReceipt, receiptsByRequest, receiptsSince            string
	suppressionHead, suppressionTail                         string
}

const (
	requestCols = "id, subject, kind, state, next_due, updated_at, version, body"
	receiptCols = "seq, id, request_id, issued_at, token"
)

// OpenErasureStore returns an erasure store on db, after migrating its
// tables (requests, receipts, suppression; see [Options.TablePrefix]) to
// the current version. db must not be nil; opts may be.
func OpenErasureStore(ctx context.Context, db *sql.DB, dialect Dialect, opts *Options) (*ErasureStore, error) {
	b, err := newBase("OpenErasureStore", db, dialect, opts)
	if err != nil {
		return nil, err
	}
	if err := b.migrate(ctx, "erasure", erasureMigrations); err != nil {
		return nil, err
	}
	d := b.d
	req, rc, sup := b.table("requests"), b.table("receipts"), b.table("suppression")
	// The states a request can be in before it is final, for Filter.Open:
	// an IN list the state index serves.
	var open []string
	for s := erasure.State(1); s != 0; s++ {
		if validEnum(s) && !s.Final() {
			open = append(open, strconv.Itoa(int(s)))
		}
	}
	q := erasureQueries{
		insertRequest:  d.rebind(d.insertIfAbsent(req, []string{"id"}, strings.Split(requestCols, ", ")...)),
		getRequest:     d.rebind("SELECT " + requestCols + " FROM " + req + " WHERE id = ?"),
		updateRequest:  d.rebind("UPDATE " + req + " SET subject = ?, kind = ?, state = ?, next_due = ?, updated_at = ?, version = ?, body = ? WHERE id = ? AND version = ?"),
		requestVersion: d.rebind("SELECT version FROM " + req + " WHERE id = ?"),
		listHead:       "SELECT " + requestCols + " FROM " + req,
		openStates:     "state IN (" + strings.Join(open, ", ") + ")",
		receiptHead:    d.rebind("SELECT (SELECT MAX(seq) FROM " + rc + "), (SELECT COUNT(*) FROM " + rc + " WHERE id = ?)"),
		// Does nothing on a taken seq or ID, whichever unique key it hits.
		insertReceipt: d.rebind("INSERT INTO " + rc + " (" + receiptCols + ") VALUES (?, ?, ?, ?, ?)" +
			d.pick(" ON CONFLICT DO NOTHING", " ON CONFLICT DO NOTHING", " ON DUPLICATE KEY UPDATE seq = seq")),
		receiptExists:     d.rebind("SELECT COUNT(*) FROM " + rc + " WHERE id = ?"),
		lastReceipt:       "SELECT " + receiptCols + " FROM " + rc + " ORDER BY seq DESC LIMIT 1",
		receiptsByRequest: d.rebind("SELECT " + receiptCols + " FROM " + rc + " WHERE request_id = ? ORDER BY seq"),
		receiptsSince:     "SELECT " + receiptCols + " FROM " + rc + " WHERE seq > ? ORDER BY seq",
		suppressionHead:   "INSERT INTO " + sup + " (digest, request_id, added_at) VALUES ",
		suppressionTail:   d.pick(" ON CONFLICT (digest) DO NOTHING", " ON CONFLICT (digest) DO NOTHING", " ON DUPLICATE KEY UPDATE digest = digest"),
	}
	return &ErasureStore{b: b, q: q}, nil
}

// Stores returns s as every store an erasure.Service needs.
func (s *ErasureStore) Stores() erasure.Stores {
	return erasure.Stores{Requests: s, Receipts: s, Suppression: s}
}

// Close marks the store closed; later calls return [ErrClosed]. It leaves
// the *sql.DB open: the host owns it. It is safe to call twice.
func (s *ErasureStore) Close() error { return s.b.close() }
