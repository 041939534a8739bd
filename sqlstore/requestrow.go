package sqlstore

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/internal/quote"
)

// requestBodyFormat is the format of the body column of the requests table,
// written into each body as "v".
const requestBodyFormat = 1

// maxBodyLen bounds the encoded body of one request. A request with a
// hundred systems and their failures takes some 50 KiB.
const maxBodyLen = 4 << 20

// requestBody is the part of an erasure.Request kept as JSON in the body
// column; the columns hold the rest (ID, subject, kind, state, next due,
// updated at, version). Enums are stored as their numbers, times as
// RFC 3339 in UTC, zero values omitted. The ID is repeated, so that a body
// copied into another row is reported as corrupt.
type requestBody struct {
	V              int              `json:"v"`
	ID             string           `json:"id"`
	Purposes       []string         `json:"purposes,omitempty"`
	ReceivedAt     time.Time        `json:"received_at,omitzero"`
	VerifiedAt     time.Time        `json:"verified_at,omitzero"`
	Due            time.Time        `json:"due,omitzero"`
	ExtendedMonths int              `json:"extended_months,omitempty"`
	RepeatOf       string           `json:"repeat_of,omitempty"`
	Digests        []string         `json:"digests,omitempty"`
	History        []transitionBody `json:"history,omitempty"`
	Steps          []stepBody       `json:"steps,omitempty"`
}

type transitionBody struct {
	From     uint8     `json:"from,omitempty"`
	To       uint8     `json:"to"`
	At       time.Time `json:"at,omitzero"`
	Actor    string    `json:"actor,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Evidence string    `json:"evidence,omitempty"`
}

type stepBody struct {
	Kind         uint8                `json:"kind"`
	State        uint8                `json:"state"`
	Name         string               `json:"name,omitempty"`
	Scopes       []personaldata.Scope `json:"scopes,omitempty"`
	Due          time.Time            `json:"due,omitzero"`
	RuleID       string               `json:"rule,omitempty"`
	Citation     string               `json:"citation,omitempty"`
	Explanation  string               `json:"explanation,omitempty"`
	Cursor       string               `json:"cursor,omitempty"`
	Removed      int                  `json:"removed,omitempty"`
	Anonymised   int                  `json:"anonymised,omitempty"`
	IndexEntries int                  `json:"index_entries,omitempty"`
	Retained     []erasure.Retained   `json:"retained,omitempty"`
	Attempts     int                  `json:"attempts,omitempty"`
	Failures     []string             `json:"failures,omitempty"`
	DoneAt       time.Time            `json:"done_at,omitzero"`
}

// requestRow is one row of the requests table as scanned, before any
// check.
type requestRow struct {
	ID        string
	Subject   string
	Kind      int64
	State     int64
	NextDue   sql.NullInt64
	UpdatedAt sql.NullInt64
	Version   int64
	Body      []byte
}

// validEnum reports whether v is a value its type can name: the types of
// package erasure refuse to marshal unknown values.
func validEnum(v interface{ MarshalText() ([]byte, error) }) bool {
	_, err := v.MarshalText()
	return err == nil
}

func validUint8(n int64) bool { return n > 0 && n <= math.MaxUint8 }

// encodeRequest checks r and turns it into a row. Everything it accepts,
// decode returns as it was given, times in UTC; text that is not UTF-8
// is stored with U+FFFD in place of the bad bytes, as JSON requires.
func encodeRequest(r *erasure.Request) (requestRow, error) {
	bad := func(format string, args ...any) (requestRow, error) {
		return requestRow{}, fmt.Errorf("%w: request %s: %s", ErrInvalidArgument, r.ID, fmt.Sprintf(format, args...))
	}
	if err := r.Subject.Validate(); err != nil {
		return bad("%v", err)
	}
	if !validEnum(r.Kind) || !validEnum(r.State) {
		return bad("unknown kind %d or state %d", r.Kind, r.State)
	}
	if r.Version == 0 || r.Version > math.MaxInt64 {
		return bad("version %d out of range", r.Version)
	}
	next, err := timeArg(r.NextDue)
	if err != nil {
		return bad("next due: %v", err)
	}
	updated, err := timeArg(r.UpdatedAt)
	if err != nil {
		return bad("updated at: %v", err)
	}
	b := requestBody{
		V: requestBodyFormat, ID: r.ID.String(), Purposes: r.Purposes,
		ReceivedAt: utc(r.ReceivedAt), VerifiedAt: utc(r.VerifiedAt), Due: utc(r.Due),
		ExtendedMonths: r.ExtendedMonths, Digests: r.Digests,
	}
	if r.RepeatOf != (ulid.ULID{}) {
		b.RepeatOf = r.RepeatOf.String()
	}
	for _, t := range r.History {
		if (t.From != 0 && !validEnum(t.From)) || !validEnum(t.To) {
			return bad("transition to unknown state %d or %d", t.From, t.To)
		}
		b.History = append(b.History, transitionBody{From: uint8(t.From), To: uint8(t.To), At: utc(t.At),
			Actor: t.Actor, Reason: t.Reason, Evidence: t.Evidence})
	}
	for _, st := range r.Steps {
		if !validEnum(st.Kind) || !validEnum(st.State) {
			return bad("step of unknown kind %d or state %d", st.Kind, st.State)
		}
		b.Steps = append(b.Steps, stepBody{Kind: uint8(st.Kind), State: uint8(st.State), Name: st.Name, Scopes: st.Scopes,
			Due: utc(st.Due), RuleID: st.RuleID, Citation: st.Citation, Explanation: st.Explanation, Cursor: st.Cursor,
			Removed: st.Removed, Anonymised: st.Anonymised, IndexEntries: st.IndexEntries, Retained: st.Retained,
			Attempts: st.Attempts, Failures: st.Failures, DoneAt: utc(st.DoneAt)})
	}
	body, err := json.Marshal(&b)
	if err != nil { // a time outside the years 0 to 9999
		return bad("%v", err)
	}
	if len(body) > maxBodyLen {
		return bad("%d bytes encoded, more than %d", len(body), maxBodyLen)
	}
	return requestRow{
		ID: r.ID.String(), Subject: string(r.Subject), Kind: int64(r.Kind), State: int64(r.State),
		NextDue: next, UpdatedAt: updated, Version: int64(r.Version), Body: body,
	}, nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// bodyTime reports whether t, read from a body, can be written back: in
// UTC, between the years 0 and 9999 (RFC 3339 allows an offset that moves
// a time past them).
func bodyTime(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

// decode checks r and turns it into a Request. It never panics; its error
// wraps [ErrCorrupt] and names the row by its ID only, never quoting the
// body.
func (r *requestRow) decode() (erasure.Request, error) {
	id, err := ulid.ParseStrict(strings.TrimSpace(r.ID))
	if err != nil {
		return erasure.Request{}, fmt.Errorf("%w: request ID %s: %w", ErrCorrupt, quote.String(r.ID), err)
	}
	bad := func(format string, args ...any) (erasure.Request, error) {
		return erasure.Request{}, fmt.Errorf("%w: request %s: %s", ErrCorrupt, id, fmt.Sprintf(format, args...))
	}
	out := erasure.Request{ID: id, Subject: personaldata.SubjectID(r.Subject)}
	if err := out.Subject.Validate(); err != nil {
		return bad("subject: %v", err)
	}
	if !validUint8(r.Kind) || !validUint8(r.State) {
		return bad("kind %d or state %d out of range", r.Kind, r.State)
	}
	out.Kind, out.State = erasure.Kind(r.Kind), erasure.State(r.State)
	if !validEnum(out.Kind) || !validEnum(out.State) {
		return bad("unknown kind %d or state %d", r.Kind, r.State)
	}
	if r.Version < 1 {
		return bad("version %d", r.Version)
	}
	out.Version = uint64(r.Version)
	out.NextDue, out.UpdatedAt = timeOf(r.NextDue), timeOf(r.UpdatedAt)

	var b requestBody
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return bad("body is not a request document (%d bytes, truncated or altered): %s", len(r.Body), jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("body has data after the request document")
	}
	switch {
	case b.V > requestBodyFormat:
		return bad("body format %d is newer than this build reads (%d)", b.V, requestBodyFormat)
	case b.V != requestBodyFormat:
		return bad("body format %d unknown", b.V)
	case b.ID != id.String():
		return bad("body belongs to request %s", quote.String(b.ID))
	}
	for _, t := range []time.Time{b.ReceivedAt, b.VerifiedAt, b.Due} {
		if !bodyTime(t) {
			return bad("a time outside the years 0 to 9999")
		}
	}
	out.Purposes, out.Digests = b.Purposes, b.Digests
	out.ReceivedAt, out.VerifiedAt, out.Due = utc(b.ReceivedAt), utc(b.VerifiedAt), utc(b.Due)
	out.ExtendedMonths = b.ExtendedMonths
	if b.RepeatOf != "" {
		if out.RepeatOf, err = ulid.ParseStrict(b.RepeatOf); err != nil {
			return bad("repeat-of ID: %v", err)
		}
	}
	for i, t := range b.History {
		tr := erasure.Transition{From: erasure.State(t.From), To: erasure.State(t.To), At: utc(t.At), Actor: t.Actor, Reason: t.Reason, Evidence: t.Evidence}
		if !bodyTime(t.At) {
			return bad("transition %d: a time outside the years 0 to 9999", i)
		}
		if (tr.From != 0 && !validEnum(tr.From)) || !validEnum(tr.To) {
			return bad("transition %d: unknown state %d or %d", i, t.From, t.To)
		}
		out.History = append(out.History, tr)
	}
	for i, st := range b.Steps {
		s := erasure.Step{Kind: erasure.StepKind(st.Kind), State: erasure.StepState(st.State), Name: st.Name, Scopes: st.Scopes,
			Due: utc(st.Due), RuleID: st.RuleID, Citation: st.Citation, Explanation: st.Explanation, Cursor: st.Cursor,
			Removed: st.Removed, Anonymised: st.Anonymised, IndexEntries: st.IndexEntries, Retained: st.Retained,
			Attempts: st.Attempts, Failures: st.Failures, DoneAt: utc(st.DoneAt)}
		if !bodyTime(st.Due) || !bodyTime(st.DoneAt) {
			return bad("step %d: a time outside the years 0 to 9999", i)
		}
		if !validEnum(s.Kind) || !validEnum(s.State) {
			return bad("step %d: unknown kind %d or state %d", i, st.Kind, st.State)
		}
		out.Steps = append(out.Steps, s)
	}
	return out, nil
}

// jsonProblem describes a JSON decoding error without quoting the
// document: where it failed and what kind of problem it is.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("wrong type for field %s at byte %d", quote.String(typ.Field), typ.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return "unknown field"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end"
	}
	return "invalid value"
}
