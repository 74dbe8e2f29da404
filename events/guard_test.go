package events_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/docs/golden"
	"github.com/bucketguard/bucketguard/events"
)

func guardSamples(t testing.TB) map[string][]byte { return samplesIn(t, "guard") }

// Every guarded name has a successful sample that parses to its part and
// names what it touched; IAM's are in us-east-1, where its events reach
// EventBridge.
func TestEveryGuardedNameHasASample(t *testing.T) {
	seen := map[events.Name]bool{}
	for name, raw := range guardSamples(t) {
		g, err := events.ParseGuard(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !g.Guarded() {
			continue
		}
		seen[g.Name] = true
		guard, _ := events.LookupGuard(g.Name)
		if g.Part != guard.Part || g.Resource == "" || g.Source != guard.Source {
			t.Errorf("%s: part %q resource %q source %q, want part %q from %s", name, g.Part, g.Resource, g.Source, guard.Part, guard.Source)
		}
		if g.Account != "111122223333" || g.Actor.ARN == "" {
			t.Errorf("%s: account %q actor %+v", name, g.Account, g.Actor)
		}
		if want := map[bool]string{true: "us-east-1", false: "eu-west-1"}[g.Source == events.IAMSource]; g.Region != want {
			t.Errorf("%s: region %s, want %s", name, g.Region, want)
		}
		// The S3 parser reads the same event as another service's: skipped.
		c, err := events.Parse(raw)
		if err != nil || c.SkipReason() == "" {
			t.Errorf("%s: the S3 parser does not skip it: %v %q", name, err, c.SkipReason())
		}
	}
	for _, g := range events.Guarded() {
		if !seen[g.Name] {
			t.Errorf("no successful sample in testdata/cloudtrail/guard for %s", g.Name)
		}
	}
}

func TestParseGuard(t *testing.T) {
	s := guardSamples(t)
	tests := []struct {
		sample   string
		part     events.Part
		resource string
		guarded  bool
	}{
		{"StopLogging", events.TrailPart, "arn:aws:cloudtrail:eu-west-1:111122223333:trail/management-events", true},
		{"PutEventSelectors", events.TrailPart, "management-events", true},
		{"RemoveTargets", events.RulePart, "BucketGuard-eu-west-1-SweepSchedule5ECAB4A7-9H8G7F6E5D4C", true},
		{"UpdateFunctionConfiguration20150331v2", events.FunctionPart, "arn:aws:lambda:eu-west-1:111122223333:function:BucketGuard-eu-west-1-RemediateFunction96205B86-Ab12Cd34Ef56", true},
		{"Unsubscribe", events.TopicPart, "arn:aws:sns:eu-west-1:111122223333:BucketGuard-eu-west-1-AlertingTopic08189029-Qw3rTy7uI9oP:6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", true},
		{"ScheduleKeyDeletion", events.KeyPart, "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", true},
		{"DeleteAlarms", events.AlarmPart, "BucketGuard-eu-west-1-alarm-RemediateErrors, BucketGuard-eu-west-1-alarm-CanaryMissing", true},
		{"PutMetricAlarm", events.AlarmPart, "BucketGuard-eu-west-1-alarm-RemediateErrors", true},
		{"DeleteMetricFilter", events.LogsPart, "BucketGuard-eu-west-1-RemediateLogsB1E3C2D4-Kj7Hg5Fd3Sa1", true},
		{"DeleteRule-denied", events.RulePart, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			g, err := events.ParseGuard(s[tt.sample])
			if err != nil {
				t.Fatal(err)
			}
			if g.Part != tt.part || g.Resource != tt.resource || g.Guarded() != tt.guarded {
				t.Errorf("got part %q resource %q guarded %v, want %q %q %v", g.Part, g.Resource, g.Guarded(), tt.part, tt.resource, tt.guarded)
			}
		})
	}
	// An S3 event is well formed and guards nothing.
	raw, err := os.ReadFile(filepath.Join("testdata", "cloudtrail", "PutBucketPolicy.json"))
	if err != nil {
		t.Fatal(err)
	}
	if g, err := events.ParseGuard(raw); err != nil || g.Part != "" || g.Guarded() {
		t.Errorf("S3 event: %+v %v", g, err)
	}
}

func TestParseGuardMalformed(t *testing.T) {
	base := `{"eventVersion":"1.11","eventID":"x","eventTime":"2026-11-20T09:14:07Z","awsRegion":"eu-west-1","recipientAccountId":"111122223333",`
	for name, raw := range map[string]string{
		"not JSON":             `{`,
		"no name":              `{"eventSource":"events.amazonaws.com"}`,
		"rule without a name":  base + `"eventSource":"events.amazonaws.com","eventName":"DeleteRule","requestParameters":{}}`,
		"name not a string":    base + `"eventSource":"events.amazonaws.com","eventName":"DisableRule","requestParameters":{"name":7}}`,
		"key without resource": base + `"eventSource":"kms.amazonaws.com","eventName":"DisableKey","requestParameters":{"keyId":"k"}}`,
		"alarm names empty":    base + `"eventSource":"monitoring.amazonaws.com","eventName":"DeleteAlarms","requestParameters":{"alarmNames":[]}}`,
		"alarm names not text": base + `"eventSource":"monitoring.amazonaws.com","eventName":"DeleteAlarms","requestParameters":{"alarmNames":[1,2]}}`,
		"alarm names a map":    base + `"eventSource":"monitoring.amazonaws.com","eventName":"DisableAlarmActions","requestParameters":{"alarmNames":{"a":"b"}}}`,
		"bad account":          strings.Replace(base, "111122223333", "1", 1) + `"eventSource":"sqs.amazonaws.com","eventName":"PurgeQueue","requestParameters":{"queueUrl":"q"}}`,
	} {
		if _, err := events.ParseGuard([]byte(raw)); !errors.Is(err, events.ErrMalformed) {
			t.Errorf("%s: error %v, want ErrMalformed", name, err)
		}
	}
}

// The list is consistent: one source per part, unique names, every field
// known to the parser.
func TestGuardedList(t *testing.T) {
	seen := map[events.Name]bool{}
	for _, g := range events.Guarded() {
		if seen[g.Name] || g.Name.IsWatched() {
			t.Errorf("%s listed twice, or also watched", g.Name)
		}
		seen[g.Name] = true
		// The IAM prefix is the eventSource's host but for CloudWatch,
		// whose eventSource is monitoring.amazonaws.com.
		prefix := strings.TrimSuffix(g.Source, ".amazonaws.com")
		if g.Source == events.CloudWatchSource {
			prefix = "cloudwatch"
		}
		if !g.Name.IsGuarded() || g.Why == "" || !strings.HasPrefix(g.API, prefix+":") {
			t.Errorf("%+v", g)
		}
	}
	for _, p := range events.Parts() {
		if len(events.GuardedSources(p)) != 1 || len(events.GuardedNames(p)) == 0 {
			t.Errorf("part %s: sources %v names %v", p, events.GuardedSources(p), events.GuardedNames(p))
		}
	}
}

// The self-defence page's table of guarded calls comes from the one list.
func TestDocsGuardedTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("| CloudTrail eventName | eventSource | API call | part | names it in | why it is guarded |\n|---|---|---|---|---|---|\n")
	for _, g := range events.Guarded() {
		field := "any trail"
		if g.Field != "" {
			field = "`" + g.Field + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", g.Name, g.Source, g.API, g.Part, field, g.Why)
	}
	golden.Section(t, "../docs/selfdefense.md", "guarded", b.String(), *update)
}

// FuzzParseGuard checks ParseGuard's promises on any input: no panic; every
// error wraps ErrMalformed; a successful guarded call always names its part,
// a resource, a valid account and region, and its name is on the list with
// the event's source.
func FuzzParseGuard(f *testing.F) {
	for _, raw := range guardSamples(f) {
		f.Add(raw)
	}
	f.Add([]byte(`{"eventVersion":"1.11","eventID":"x","eventTime":"2026-11-20T09:14:07Z","awsRegion":"eu-west-1","recipientAccountId":"111122223333","eventSource":"kms.amazonaws.com","eventName":"DisableKey","resources":[{"ARN":""}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		g, err := events.ParseGuard(raw)
		if err != nil {
			if !errors.Is(err, events.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if g.EventID == "" || g.Name == "" || g.Time.IsZero() {
			t.Fatalf("parsed change lacks id, name or time: %+v", g)
		}
		if g.Part == "" {
			if g.Guarded() || g.Resource != "" {
				t.Fatalf("unguarded change guarded or naming a resource: %+v", g)
			}
			return
		}
		guard, ok := events.LookupGuard(g.Name)
		if !ok || guard.Source != g.Source || guard.Part != g.Part {
			t.Fatalf("part %q for %s from %s", g.Part, g.Name, g.Source)
		}
		if len(g.Account) != 12 || !events.ValidRegion(g.Region) {
			t.Fatalf("guarded change has account %q region %q", g.Account, g.Region)
		}
		if g.Guarded() == (g.Resource == "") {
			t.Fatalf("guarded %v with resource %q", g.Guarded(), g.Resource)
		}
	})
}
