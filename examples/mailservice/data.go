package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, without cgo

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/retention"
)

// dataDB is the provider's own database: customers and invoices, in a
// SQLite file of its own. It holds personal data only as ciphertext; the keys
// that open it live in another database (see openStores), so a copy of this
// file (a backup) is no better than the keys that are still there.
type dataDB struct {
	db   *sql.DB
	path string
}

const dataSchema = `
CREATE TABLE IF NOT EXISTS customers (
	id          TEXT PRIMARY KEY,
	email       TEXT NOT NULL,
	email_index TEXT NOT NULL,
	name        TEXT NOT NULL,
	address     TEXT NOT NULL,
	signup_ip   TEXT NOT NULL,
	plan        TEXT NOT NULL,
	testimonial TEXT NOT NULL,
	published   INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	closed_at   INTEGER
);
CREATE INDEX IF NOT EXISTS customers_email_index ON customers (email_index);
CREATE TABLE IF NOT EXISTS invoices (
	number    TEXT PRIMARY KEY,
	customer  TEXT NOT NULL,
	issued_at INTEGER NOT NULL,
	bill_to   BLOB NOT NULL,
	amount_ct INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS invoices_customer ON invoices (customer);
`

// openData opens (and creates) the data database at path.
func openData(ctx context.Context, path string) (*dataDB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, dataSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("data database: %w", err)
	}
	return &dataDB{db: db, path: path}, nil
}

func (d *dataDB) Close() error { return d.db.Close() }

// backup writes a consistent copy of the database to path, as a nightly
// backup job would.
func (d *dataDB) backup(ctx context.Context, path string) error {
	_, err := d.db.ExecContext(ctx, "VACUUM INTO ?", path)
	return err
}

// restore replaces the database with the backup at from, as after a lost
// disk, and reopens it.
func (d *dataDB) restore(ctx context.Context, from string) error {
	if err := d.db.Close(); err != nil {
		return err
	}
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.path, b, 0o600); err != nil {
		return err
	}
	nd, err := openData(ctx, d.path)
	if err != nil {
		return err
	}
	*d = *nd
	return nil
}

func nanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// putCustomer writes c, which must be protected already.
func (d *dataDB) putCustomer(ctx context.Context, c *Customer) error {
	_, err := d.db.ExecContext(ctx, `INSERT OR REPLACE INTO customers
		(id, email, email_index, name, address, signup_ip, plan, testimonial, published, created_at, closed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Email, c.EmailIndex, c.Name, c.Address, c.SignupIP, c.Plan, c.Testimonial, c.Published,
		nanos(c.Created), nanos(c.Closed))
	return err
}

const customerColumns = `id, email, email_index, name, address, signup_ip, plan, testimonial, published, created_at, closed_at`

func scanCustomer(s interface{ Scan(...any) error }) (*Customer, error) {
	var c Customer
	var created, closed sql.NullInt64
	if err := s.Scan(&c.ID, &c.Email, &c.EmailIndex, &c.Name, &c.Address, &c.SignupIP, &c.Plan,
		&c.Testimonial, &c.Published, &created, &closed); err != nil {
		return nil, err
	}
	c.Created, c.Closed = fromNanos(created), fromNanos(closed)
	return &c, nil
}

// customer returns the stored (protected) row of id, or nil if there is none.
func (d *dataDB) customer(ctx context.Context, id string) (*Customer, error) {
	c, err := scanCustomer(d.db.QueryRowContext(ctx, "SELECT "+customerColumns+" FROM customers WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

// customers returns every stored row, ordered by ID.
func (d *dataDB) customers(ctx context.Context) ([]*Customer, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+customerColumns+" FROM customers ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Customer
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// findByEmailIndex returns the ID of the customer with the blind index ix.
func (d *dataDB) findByEmailIndex(ctx context.Context, ix string) (string, bool, error) {
	var id string
	err := d.db.QueryRowContext(ctx, "SELECT id FROM customers WHERE email_index = ?", ix).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return id, err == nil, err
}

// deleteCustomer deletes the customer row of id with its blind index, and
// reports how many rows and index entries went.
func (d *dataDB) deleteCustomer(ctx context.Context, id string) (rows, index int, err error) {
	var ix string
	err = d.db.QueryRowContext(ctx, "SELECT email_index FROM customers WHERE id = ?", id).Scan(&ix)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	if _, err := d.db.ExecContext(ctx, "DELETE FROM customers WHERE id = ?", id); err != nil {
		return 0, 0, err
	}
	if ix != "" {
		index = 1
	}
	return 1, index, nil
}

// invoiceRow is an invoice as stored: BillTo is sealed.
type invoiceRow struct {
	Number   string
	Customer string
	Issued   time.Time
	BillTo   []byte
	AmountCt int64
}

func (d *dataDB) addInvoice(ctx context.Context, r invoiceRow) error {
	_, err := d.db.ExecContext(ctx, "INSERT INTO invoices (number, customer, issued_at, bill_to, amount_ct) VALUES (?, ?, ?, ?, ?)",
		r.Number, r.Customer, r.Issued.UnixNano(), r.BillTo, r.AmountCt)
	return err
}

// invoices returns the invoices of customer (every customer's if empty),
// ordered by number.
func (d *dataDB) invoices(ctx context.Context, customer string) ([]invoiceRow, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT number, customer, issued_at, bill_to, amount_ct FROM invoices
		WHERE ? = '' OR customer = ? ORDER BY number`, customer, customer)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []invoiceRow
	for rows.Next() {
		var r invoiceRow
		var issued int64
		if err := rows.Scan(&r.Number, &r.Customer, &issued, &r.BillTo, &r.AmountCt); err != nil {
			return nil, err
		}
		r.Issued = time.Unix(0, issued).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

func (d *dataDB) deleteInvoice(ctx context.Context, number string) (bool, error) {
	res, err := d.db.ExecContext(ctx, "DELETE FROM invoices WHERE number = ?", number)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Record keys of the sweep: "customer/<id>" and "invoice/<number>", which
// name a row without being personal data.
const (
	customerKey = "customer/"
	invoiceKey  = "invoice/"
)

// records lists every row as the retention sweep sees it, in ascending key
// order. A large host would page through its tables instead.
func (d *dataDB) records(ctx context.Context) ([]retention.Record, error) {
	cs, err := d.customers(ctx)
	if err != nil {
		return nil, err
	}
	invs, err := d.invoices(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []retention.Record
	for _, c := range cs {
		out = append(out, retention.Record{Key: customerKey + c.ID, Facts: retention.Facts{
			Subject: personaldata.SubjectID(c.ID), Category: "account", Collected: c.Created, AccountClosed: c.Closed}})
	}
	for _, r := range invs {
		out = append(out, retention.Record{Key: invoiceKey + r.Number, Facts: retention.Facts{
			Subject: personaldata.SubjectID(r.Customer), Category: billingCategory, Kind: "invoice", Collected: r.Issued}})
	}
	slices.SortFunc(out, func(a, b retention.Record) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// scopes is the erasure Inventory: the key scopes a customer has data in,
// each with the facts of its latest record.
func (d *dataDB) scopes(ctx context.Context, subject personaldata.SubjectID) ([]erasure.ScopeFacts, error) {
	var out []erasure.ScopeFacts
	c, err := d.customer(ctx, string(subject))
	if err != nil {
		return nil, err
	}
	if c != nil {
		out = append(out, erasure.ScopeFacts{Scope: personaldata.DefaultScope, Facts: erasure.RetentionFacts{
			Category: "account", Collected: c.Created, AccountClosed: c.Closed}})
	}
	invs, err := d.invoices(ctx, string(subject))
	if err != nil {
		return nil, err
	}
	latest := map[personaldata.Scope]time.Time{}
	var order []personaldata.Scope
	for _, r := range invs {
		s := fiscalScope(r.Issued)
		if _, ok := latest[s]; !ok {
			order = append(order, s)
		}
		if r.Issued.After(latest[s]) {
			latest[s] = r.Issued
		}
	}
	slices.Sort(order)
	for _, s := range order {
		out = append(out, erasure.ScopeFacts{Scope: s, Facts: erasure.RetentionFacts{
			Category: billingCategory, Kind: "invoice", Collected: latest[s]}})
	}
	return out, nil
}

// customerEraser is the customers table as a host system of the erasure
// service: it deletes the customer row and its blind index, and keeps the
// invoices, which the law says to keep (their key scopes are shredded when
// that retention ends).
func (d *dataDB) customerEraser(ctx context.Context, call erasure.EraseCall) (erasure.EraseResult, error) {
	rows, index, err := d.deleteCustomer(ctx, string(call.Subject))
	if err != nil {
		return erasure.EraseResult{}, errors.New("customers: delete failed")
	}
	res := erasure.EraseResult{Removed: rows, IndexEntries: index}
	invs, err := d.invoices(ctx, string(call.Subject))
	if err != nil {
		return erasure.EraseResult{}, errors.New("customers: reading invoices failed")
	}
	if len(invs) > 0 {
		res.Retained = []erasure.Retained{{Count: len(invs), Reason: "invoices, kept for the tax authority (AWR art. 52 lid 4)"}}
	}
	return res, nil
}

// disposer carries out the retention sweep's decisions on the data database.
type disposer struct{ d *dataDB }

func (x disposer) Delete(ctx context.Context, r retention.Record) error {
	var gone bool
	var err error
	switch {
	case strings.HasPrefix(r.Key, customerKey):
		var n int
		n, _, err = x.d.deleteCustomer(ctx, strings.TrimPrefix(r.Key, customerKey))
		gone = n > 0
	case strings.HasPrefix(r.Key, invoiceKey):
		gone, err = x.d.deleteInvoice(ctx, strings.TrimPrefix(r.Key, invoiceKey))
	default:
		return fmt.Errorf("unknown record kind: %w", retention.ErrInvalidRecord)
	}
	if err != nil {
		return err
	}
	if !gone {
		return retention.ErrNotFound
	}
	return nil
}

func (x disposer) Anonymise(ctx context.Context, r retention.Record) error {
	return errors.New("this policy anonymises nothing")
}
