package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/export"
	"github.com/personaldata/personaldata/retention"
)

func TestMapRecords(t *testing.T) {
	t.Parallel()
	src := export.NewMemorySource()
	src.Add(subject,
		map[string]any{"when": testNow, "ip": "192.0.2.1", "agent": "=cmd", "n": 3},
		map[string]any{"when": testNow, "ip": "192.0.2.2", "extra": []int{1, 2}, "none": nil},
	)
	e := plainExporter(t, nil)
	require.NoError(t, e.Register(cat("logins"), src))
	b, _ := writePackage(t, e, export.Request{Subject: subject})
	p := openPackage(t, b)
	assert.Equal(t, `{"agent":"=cmd","ip":"192.0.2.1","n":3,"when":"2026-03-01T12:00:00Z"}`+"\n"+
		`{"extra":[1,2],"ip":"192.0.2.2","none":null,"when":"2026-03-01T12:00:00Z"}`+"\n",
		string(p.files["data/logins/records.ndjson"]))
	assert.Equal(t, [][]string{
		{"_row", "agent", "extra", "ip", "n", "none", "when"},
		{"1", "'=cmd", "", "192.0.2.1", "3", "", "2026-03-01T12:00:00Z"},
		{"2", "", "[1,2]", "192.0.2.2", "", "", "2026-03-01T12:00:00Z"},
	}, p.csvRows(t, "data/logins/records.csv"))

	var c bytes.Buffer
	require.NoError(t, e.WriteCSV(context.Background(), &c, subject, "logins", ""))
	assert.Equal(t, string(p.files["data/logins/records.csv"]), c.String())
}

func TestWriteJSONDocument(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	e := f.exporter(t, nil)
	var b bytes.Buffer
	require.NoError(t, e.WriteJSON(context.Background(), &b, export.Request{Subject: subject, Kind: export.Portability}))
	var doc struct {
		Format     string             `json:"format"`
		Kind       string             `json:"kind"`
		SubjectRef string             `json:"subject_ref"`
		Omissions  []export.Omission  `json:"omissions"`
		Categories []map[string]any   `json:"categories"`
		Controller *export.Controller `json:"controller"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &doc))
	assert.Equal(t, export.FormatVersion, doc.Format)
	assert.Equal(t, "portability", doc.Kind)
	assert.Equal(t, e.SubjectRef(subject), doc.SubjectRef)
	require.Len(t, doc.Categories, 2)
	assert.Equal(t, "account", doc.Categories[1]["name"])
	recs := doc.Categories[1]["records"].([]any)
	require.Len(t, recs, 2)
	assert.Equal(t, hostileScript, recs[0].(map[string]any)["name"])
	assert.Len(t, doc.Omissions, 3)
}

func TestChildTableCSV(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	e := f.exporter(t, nil)
	var b bytes.Buffer
	require.NoError(t, e.WriteCSV(context.Background(), &b, subject, "account", "contacts"))
	rows, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"_row", "_index", "kind", "value", "_erased"}, rows[0])
	assert.Len(t, rows, 3)
}

func TestProgress(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []export.Progress
	e := plainExporter(t, &export.Options{Progress: func(p export.Progress) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, p)
	}})
	require.NoError(t, e.Register(cat("notes"), export.SourceFunc(notes(2500))))
	_, err := e.WritePackage(context.Background(), io.Discard, export.Request{Subject: subject})
	require.NoError(t, err)
	var nd []export.Progress
	for _, p := range got {
		if p.File == "data/notes/records.ndjson" {
			nd = append(nd, p)
		}
	}
	require.Len(t, nd, 3)
	assert.Equal(t, []int64{1000, 2000, 2500}, []int64{nd[0].Records, nd[1].Records, nd[2].Records})
	assert.True(t, nd[2].Done)
	assert.Less(t, nd[0].Bytes, nd[2].Bytes)
	assert.Equal(t, personaldata.Category("notes"), nd[2].Category)
}

func TestPageRowsCapped(t *testing.T) {
	t.Parallel()
	e := plainExporter(t, &export.Options{PageRows: 10})
	require.NoError(t, e.Register(cat("notes"), export.SourceFunc(notes(25))))
	b, m := writePackage(t, e, export.Request{Subject: subject})
	p := openPackage(t, b)
	assert.EqualValues(t, 25, *m.Categories[0].RecordCount)
	page := string(p.files[export.IndexPath])
	assert.Equal(t, 10, strings.Count(page, "<tr><td>"))
	assert.Contains(t, page, "The first 10 of 25 records are shown")
}

func TestRetentionRequired(t *testing.T) {
	t.Parallel()
	policy, err := retention.NewPolicy(retention.PolicySpec{Rules: []retention.Rule{{ID: "account", Category: "account",
		Trigger: retention.TriggerAccountClosed, Period: retention.Period{Days: 30}, Action: retention.Delete, Basis: personaldata.Contract}}})
	require.NoError(t, err)
	ev, err := retention.New(policy, retention.NewMemoryHoldStore(), nil)
	require.NoError(t, err)
	e := plainExporter(t, &export.Options{Retention: ev})
	err = e.Register(cat("notes"), export.SourceFunc(notes(1)))
	require.ErrorIs(t, err, export.ErrInvalidCategory)
	require.ErrorIs(t, err, retention.ErrNoRule)
	require.NoError(t, e.Register(cat("account"), export.SourceFunc(notes(1))))
}

// TestConcurrentExports runs exports of several subjects in parallel on one
// Exporter while categories are registered; run with -race.
func TestConcurrentExports(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	e := f.exporter(t, nil)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			var b bytes.Buffer
			if _, err := e.WritePackage(context.Background(), &b, export.Request{Subject: subject}); err != nil {
				t.Error(err)
			}
			_ = e.Register(cat("extra"+string(rune('a'+i))), export.SourceFunc(notes(3)))
			if err := e.WriteNDJSON(context.Background(), io.Discard, subject, "account"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	assert.Len(t, e.Categories(), 5+4)
}
