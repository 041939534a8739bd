package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/personaldata/personaldata/pii"
)

var update = flag.Bool("update", false, "rewrite testdata/output.txt")

// TestMain runs the program itself when the test binary is started with
// MAILSERVICE_MAIN=1, so that TestProgram checks its real exit status.
func TestMain(m *testing.M) {
	if os.Getenv("MAILSERVICE_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestProgram runs the whole tour as a program and compares its output with
// the golden file, so the example stays in step with the library. Run with
// -update to accept a changed story.
func TestProgram(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MAILSERVICE_MAIN=1", "TMPDIR="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the program failed: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	out := stdout.Bytes()

	for _, line := range []string{
		"== 2025-11-03  Three customers sign up",
		" ✓ the newsletter is opt-in: an address is never added automatically (004)",
		" ✓ one click unsubscribes at once, no log-in needed (001, 002, RFC 8058)",
		" ✓ a change takes effect no sooner than 30 days after it is announced (002)",
		" ✓ earlier versions of the statement stay readable in the archive (003)",
		" ✓ the package's checksums all match its files",
		" ✓ a legal hold stops the deletion",
		" ✓ the receipt verifies with the public key, and lists what was erased and what was kept, with the law",
		" ✓ a restored backup shows nothing erased: the profile reads as erased (003, 004)",
		" ✓ an erased person is not brought back by an import (suppression list)",
		" ✓ the invoices under fiscal-2025 are erased when their 7 years end, and the later ones are not",
		" ✓ an unreasonably repeated request may be refused, with its evidence on the receipt (003)",
		"Every promise kept.",
	} {
		if !bytes.Contains(out, []byte(line+"\n")) {
			t.Errorf("output lacks the line %q", line)
		}
	}
	if bytes.Contains(out, []byte("BROKEN")) {
		t.Error("the output reports a broken promise")
	}
	for line := range strings.Lines(string(out)) {
		if !strings.HasPrefix(line, "level=") {
			continue
		}
		for _, v := range personalValues() {
			if strings.Contains(line, v) {
				t.Errorf("log line carries personal data %q: %s", v, line)
			}
		}
	}

	golden := filepath.Join("testdata", "output.txt")
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n%s", golden, out)
	}
}

// TestBrokenPromiseFails checks that a promise not kept fails the run, which
// main turns into exit status 1.
func TestBrokenPromiseFails(t *testing.T) {
	var buf bytes.Buffer
	tr := &tour{out: &buf}
	tr.check(true, "kept")
	tr.check(false, "not kept")
	var be *brokenError
	if err := tr.verdict(); !errors.As(err, &be) || len(be.promises) != 1 || be.promises[0] != "not kept" {
		t.Fatalf("verdict = %v, want one broken promise", err)
	}
	if !strings.Contains(buf.String(), " ✗ BROKEN: not kept\n") {
		t.Errorf("output does not say what was broken:\n%s", buf.String())
	}
}

// TestProgramExitStatus checks that a run that cannot keep its promises
// exits with status 1: here, one asked to start from a database that exists.
func TestProgramExitStatus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-db", path)
	cmd.Env = append(os.Environ(), "MAILSERVICE_MAIN=1", "TMPDIR="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "exists") {
		t.Fatalf("exit: %v, stderr %q; want status 1 and the reason", err, stderr.String())
	}
}

func TestRunRefusesExistingDatabase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := run(context.Background(), &buf, config{dir: dir, dbPath: path}); err == nil {
		t.Fatal("run on an existing database succeeded")
	}
}

func TestModelsAreValid(t *testing.T) {
	if err := pii.Validate(Customer{}); err != nil {
		t.Error(err)
	}
}
