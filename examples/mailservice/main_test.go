package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/personaldata/personaldata/pii"
)

var update = flag.Bool("update", false, "rewrite testdata/output.txt")

// TestOutput runs the whole story and compares its output with the golden
// file, so the example stays in step with the library.
func TestOutput(t *testing.T) {
	var buf bytes.Buffer
	if err := run(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "output.txt")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", golden, buf.String())
	}
	for _, line := range bytes.Split(buf.Bytes(), []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("level=")) {
			continue
		}
		for _, secret := range []string{"Anna", "example.nl", "203.0.113.7", "Utrecht"} {
			if bytes.Contains(line, []byte(secret)) {
				t.Errorf("log line carries personal data %q: %s", secret, line)
			}
		}
	}
}

func TestModelsAreValid(t *testing.T) {
	for _, m := range []any{Customer{}, &[]Customer{}} {
		if err := pii.Validate(m); err != nil {
			t.Error(err)
		}
	}
}
