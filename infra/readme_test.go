package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README section")

// The README's table of context keys comes from ContextKeys.
func TestREADMEContextTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("| key | default | meaning |\n|---|---|---|\n")
	for _, k := range ContextKeys() {
		def := ""
		if k.Default != "" {
			def = "`" + k.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", k.Key, def, k.Meaning)
	}
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	begin, end := "<!-- context:begin -->\n", "<!-- context:end -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatal("README has no context section")
	}
	if doc[i+len(begin):j] == b.String() {
		return
	}
	if *update {
		if err := os.WriteFile("../README.md", []byte(doc[:i+len(begin)]+b.String()+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README context section is out of date (go test -update rewrites it):\n%s", b.String())
}
