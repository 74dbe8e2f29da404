// Command cost prints the bill of materials of synthesized templates: each
// billed resource, its list price and the fixed monthly cost per account
// and region (make cost runs it on cdk.out after make synth).
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bucketguard/bucketguard/infra/cost"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(paths []string, stdout, stderr io.Writer) int {
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "usage: cost TEMPLATE.json...")
		return 2
	}
	code := 0
	fmt.Fprintf(stdout, "us-east-1 list prices as of %s (infra/cost/cost.go)\n", cost.PricesAsOf)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		bill, err := cost.Of(b)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", p, err)
			return 1
		}
		fmt.Fprintf(stdout, "\n%s\n", filepath.Base(p))
		for _, l := range bill.Lines {
			fixed := "billed by use"
			if l.Monthly > 0 {
				fixed = fmt.Sprintf("$%6.2f a month", l.Monthly)
			}
			fmt.Fprintf(stdout, "  %-34s %3d  %s\n", l.Type, l.Count, fixed)
		}
		fmt.Fprintf(stdout, "  %-34s      $%6.2f a month per account and region\n", "fixed", bill.Fixed)
		if len(bill.Unpriced) > 0 {
			fmt.Fprintf(stderr, "%s: resource types the price table does not know: %v\n", p, bill.Unpriced)
			code = 1
		}
	}
	return code
}
