package main

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/docs/golden"
)

var update = flag.Bool("update", false, "rewrite the docs section")

// The deploy page's table of context keys comes from ContextKeys.
func TestDocsContextTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("| key | default | meaning |\n|---|---|---|\n")
	for _, k := range ContextKeys() {
		def := ""
		if k.Default != "" {
			def = "`" + k.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", k.Key, def, k.Meaning)
	}
	golden.Section(t, "../docs/deploy.md", "context", b.String(), *update)
}
