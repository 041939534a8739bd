package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"iter"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/export"
)

// unescapePathSegment inverts export.EscapePathSegment.
func unescapePathSegment(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '_' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		d, err := hex.DecodeString(s[i+1 : i+3])
		if err != nil {
			return "", false
		}
		b.Write(d)
		i += 2
	}
	return b.String(), true
}

// FuzzEscapePathSegment checks that escaped names are safe zip path
// segments and that escaping is injective (it can be undone).
func FuzzEscapePathSegment(f *testing.F) {
	for _, s := range []string{"contacts", "address.lines", "../../etc/passwd", "a/b\\c", "_x", "ünïcode", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := export.EscapePathSegment(s)
		for i := 0; i < len(e); i++ {
			c := e[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
				t.Fatalf("EscapePathSegment(%q) = %q has byte %q", s, e, c)
			}
		}
		if back, ok := unescapePathSegment(e); !ok || back != s {
			t.Fatalf("EscapePathSegment(%q) = %q does not decode back (%q)", s, e, back)
		}
	})
}

type fuzzRecord struct {
	Text string   `json:"text"`
	List []string `json:"list"`
	Any  any      `json:"any"`
}

// FuzzCellAndJSON writes one outside value through every writer and reads
// it back with encoding/json and encoding/csv: JSON is exact (up to
// invalid UTF-8, which becomes U+FFFD), CSV is the same text or the text
// with an apostrophe, never a formula, and the row count never changes.
func FuzzCellAndJSON(f *testing.F) {
	for _, s := range []string{"Jan", "=1+1", "-2", "@SUM(A1)", "\tx", "\rx", "a\nb", `"quoted"`, "<script>alert(1)</script>", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := export.New(export.Controller{Name: "x", Contact: "y"}, &export.Options{SubjectKey: make([]byte, 32)})
		if err != nil {
			t.Fatal(err)
		}
		rec := fuzzRecord{Text: s, List: []string{s}, Any: s}
		err = e.Register(export.Category{Name: "f", Title: "f", Origin: export.Provided,
			Purposes: []export.Purpose{{ID: "p", Description: "p", Basis: personaldata.Contract}}},
			export.SourceFunc(func(context.Context, personaldata.SubjectID) iter.Seq2[fuzzRecord, error] {
				return func(yield func(fuzzRecord, error) bool) { yield(rec, nil) }
			}))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		want := string([]rune(s)) // each invalid byte becomes U+FFFD

		var nd bytes.Buffer
		if err := e.WriteNDJSON(ctx, &nd, "s", "f"); err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(nd.Bytes()) || bytes.Count(nd.Bytes(), []byte("\n")) != 1 {
			t.Fatalf("NDJSON %q is not one line of UTF-8", nd.Bytes())
		}
		var got fuzzRecord
		if err := json.Unmarshal(nd.Bytes(), &got); err != nil {
			t.Fatalf("NDJSON %q: %v", nd.Bytes(), err)
		}
		if got.Text != want || got.List[0] != want || got.Any != want {
			t.Fatalf("JSON round trip of %q gave %q", s, got.Text)
		}

		// encoding/csv reads CR LF inside a quoted field as LF.
		wantCSV := strings.ReplaceAll(want, "\r\n", "\n")
		for _, table := range []string{"", "list"} {
			var c bytes.Buffer
			if err := e.WriteCSV(ctx, &c, "s", "f", table); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&c).ReadAll()
			if err != nil {
				t.Fatalf("CSV: %v", err)
			}
			if len(rows) != 2 {
				t.Fatalf("CSV of %q has %d rows", s, len(rows))
			}
			for _, cell := range rows[1][1:] {
				if table == "list" && cell == "0" {
					continue // _index
				}
				if cell != wantCSV && cell != "'"+wantCSV && !strings.Contains(cell, "\"") {
					t.Fatalf("CSV cell of %q is %q", s, cell)
				}
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Fatalf("CSV cell %q would run as a formula", cell)
				}
			}
		}
	})
}
