package events_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/docs/golden"
	"github.com/bucketguard/bucketguard/events"
)

// The events page's table of watched events comes from the one list.
func TestDocsWatchedTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("| CloudTrail eventName | API call | scope | why it is watched |\n|---|---|---|---|\n")
	for _, w := range events.Watched() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", w.Name, w.API, w.Scope, w.Why)
	}
	golden.Section(t, "../docs/events.md", "watched", b.String(), *update)
}
