package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"iter"
	"strings"
	"testing"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/export"
)

type textRecord struct {
	Text string `json:"text"`
}

// TestCSVTextCellEveryPosition puts each byte that needs quoting, checking
// or neutralising at every position of cells of several lengths, and reads
// the CSV back with encoding/csv.
func TestCSVTextCellEveryPosition(t *testing.T) {
	var cells []string
	for _, special := range []string{",", `"`, "\r", "\n", "\r\n", "\xff", "é", " ", "=", "\t", "-"} {
		for n := 1; n <= 24; n++ {
			for pos := range n {
				cells = append(cells, strings.Repeat("a", pos)+special+strings.Repeat("b", n-pos-1))
			}
		}
	}
	e, err := export.New(export.Controller{Name: "x", Contact: "y"}, &export.Options{SubjectKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Register(cat("cells"), export.SourceFunc(func(context.Context, personaldata.SubjectID) iter.Seq2[*textRecord, error] {
		return func(yield func(*textRecord, error) bool) {
			var r textRecord
			for _, c := range cells {
				r.Text = c
				if !yield(&r, nil) {
					return
				}
			}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := e.WriteCSV(context.Background(), &b, subject, "cells", ""); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(cells)+1 {
		t.Fatalf("%d rows for %d records", len(rows), len(cells))
	}
	for i, c := range cells {
		// encoding/csv reads CR LF inside a quoted field as LF.
		want := strings.ReplaceAll(export.NeutraliseCell(strings.ToValidUTF8(c, "\uFFFD")), "\r\n", "\n")
		if got := rows[i+1][1]; got != want {
			t.Errorf("cell %q reads back as %q, want %q", c, got, want)
		}
	}
}
