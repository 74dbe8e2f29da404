package events_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/events"
)

// The README's table of watched events comes from the one list.
func TestREADMEWatchedTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("| CloudTrail eventName | API call | scope | why it is watched |\n|---|---|---|---|\n")
	for _, w := range events.Watched() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", w.Name, w.API, w.Scope, w.Why)
	}
	checkSection(t, "../README.md", "watched", b.String())
}

// checkSection compares the README between <!-- name:begin --> and
// <!-- name:end --> with want, or rewrites it with -update.
func checkSection(t *testing.T, path, name, want string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("README has no %s section", name)
	}
	got := doc[i+len(begin) : j]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README %s section is out of date (go test -update rewrites it):\n%s", name, want)
}
