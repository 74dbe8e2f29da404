package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/bucketguard/bucketguard/docs/golden"
	"github.com/bucketguard/bucketguard/infra/cost"
)

// maxPerAccountFixed bounds the default per-account stack's fixed monthly
// cost per account and region at us-east-1 list prices: ten alarm metrics,
// a dashboard and a key.
const maxPerAccountFixed = 5.00

// defaultTemplate is the per-account stack as `cdk deploy` makes it with
// only the e-mail settings: one region, no trail, no optional part.
func defaultTemplate(t *testing.T) []byte {
	t.Helper()
	dist := fakeDist(t)
	s, err := ParseSettings(ctx(map[string]any{"regions": []any{"us-east-1"}, "account": "111122223333",
		"alertEmails": []any{"security@example.com"}, "opsEmails": []any{"ops@example.com"}}), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(dist, "cdk.out"))})
	stacks := NewApp(app, s, dist)
	b, err := json.Marshal(*assertions.Template_FromStack(stacks[0].Stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every resource the stacks deploy is priced (a resource the table does not
// know fails here), the default per-account stack costs no more than its
// bound, and the docs' bill of materials is this one.
func TestCostOfTheStack(t *testing.T) {
	_, tpls, _ := synth(t)
	for i, tpl := range tpls {
		b, _ := json.Marshal(tpl)
		bill, err := cost.Of(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(bill.Unpriced) > 0 {
			t.Errorf("stack %d: resource types the price table does not know: %v", i, bill.Unpriced)
		}
	}
	bill, err := cost.Of(defaultTemplate(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(bill.Unpriced) > 0 {
		t.Fatalf("unpriced: %v", bill.Unpriced)
	}
	if bill.Fixed > maxPerAccountFixed {
		t.Errorf("the per-account stack costs $%.2f a month fixed, over $%.2f", bill.Fixed, maxPerAccountFixed)
	}
	golden.Section(t, "../docs/cost.md", "per-account", billTable(bill), *update)
	golden.Section(t, "../docs/cost.md", "variable", variableTable(t), *update)
}

func billTable(b cost.Bill) string {
	var s strings.Builder
	s.WriteString("| resource | count | fixed a month | billed by use |\n|---|---|---|---|\n")
	for _, l := range b.Lines {
		fixed := "—"
		if l.Monthly > 0 {
			fixed = fmt.Sprintf("$%.2f", l.Monthly)
			if l.Per != "" {
				fixed += fmt.Sprintf(" ($%.2f per %s, %d)", l.Each, l.Per, l.Units)
			}
		}
		use := l.Use
		if l.Source != "" {
			use += fmt.Sprintf(" ([pricing](%s))", l.Source)
		}
		fmt.Fprintf(&s, "| `%s` | %d | %s | %s |\n", l.Type, l.Count, fixed, strings.TrimSpace(use))
	}
	fmt.Fprintf(&s, "| **fixed, per account and region** | | **$%.2f** | |\n", b.Fixed)
	return s.String()
}

// variableTable prices 1,000 events and 1,000 buckets swept from the calls
// the tests assert (TestCallCountsPerScenario, the sweep's budget look) and
// the bytes the remediate function really logs per event.
func variableTable(t *testing.T) string {
	// Three events; rounded, as durations in the lines vary by a byte or two.
	logged := (len(handlerLog(t))/3 + 250) / 500 * 500
	usages := []cost.Usage{
		{Name: "1,000 events on a clean bucket", LambdaMs: 150, MemoryMB: remediateMemoryMB, Invocations: 1, S3Reads: 9,
			DynamoWrites: 1, LogBytes: float64(logged) / 2, Notes: "the read round, the claim"},
		{Name: "1,000 events with one public statement", LambdaMs: 300, MemoryMB: remediateMemoryMB, Invocations: 1, S3Reads: 9 + 1 + 1, S3Writes: 1,
			PolicyChecks: 1, DynamoWrites: 5, SNSPublishes: 1, KMSRequests: 1, LogBytes: float64(logged),
			Notes: "the read round, the re-read, AWS's policy check, the write and its read-back; claim, journal, record, undo record, fight count; one alert"},
		{Name: "1,000 buckets swept, all clean (enforce)", LambdaMs: 1, MemoryMB: sweepMemoryMB, Invocations: 0.001, S3Reads: 9 + 1.0/1000,
			Notes: "each bucket's read round (the budget's look), a ListBuckets page per 1,000; the function sweeps about 1,000 buckets a second (48 at once, make bench)"},
	}
	var s strings.Builder
	s.WriteString("| work | Lambda | S3 requests | IAM Access Analyzer | DynamoDB | SNS and KMS | CloudWatch Logs | total | what it calls |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, u := range usages {
		by, total := u.Per1000()
		fmt.Fprintf(&s, "| %s | $%.4f | $%.4f | $%.4f | $%.4f | $%.4f | $%.4f | **$%.4f** | %s |\n", u.Name,
			by["Lambda"], by["S3 requests"], by["IAM Access Analyzer"], by["DynamoDB"], by["SNS and KMS"], by["CloudWatch Logs"], total, u.Notes)
	}
	fmt.Fprintf(&s, "\nLog bytes per event, measured on the remediate function's real log lines (one public statement), to the nearest 500: %d.\n", logged)
	return s.String()
}

// fakeDist is a dist directory with a stand-in bootstrap for each
// function of the per-account stack, as make build would leave it.
func fakeDist(t *testing.T) string {
	t.Helper()
	dist := t.TempDir()
	for _, fn := range []string{"remediate", "sweep"} {
		if err := os.MkdirAll(filepath.Join(dist, fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dist, fn, "bootstrap"), []byte("not a real binary"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dist
}
