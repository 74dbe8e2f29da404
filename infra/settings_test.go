package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/config"
)

func ctx(m map[string]any) func(string) any { return func(k string) any { return m[k] } }

func noEnv(string) (string, bool) { return "", false }

func TestParseSettings(t *testing.T) {
	s, err := ParseSettings(ctx(map[string]any{
		"regions": []any{"eu-west-1", "us-east-1"}, "account": "111122223333",
		"alertEmails": []any{"security@example.com"}, "opsEmails": "ops@example.com, oncall@example.com",
		"ownerRoutes": map[string]any{"web-team": "web@example.com", "data-team": []any{"a@example.com", "b@example.com"}},
		"mode":        "notify", "encryption": "sse-kms", "kmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"enforceVersioning": true, "createTrail": "true", "logRetentionDays": float64(365), "noInvocationsAlarmHours": "12",
		"remediateConcurrency": float64(0),
	}), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Regions, []string{"eu-west-1", "us-east-1"}) || s.Account != "111122223333" ||
		!reflect.DeepEqual(s.OpsEmails, []string{"ops@example.com", "oncall@example.com"}) ||
		!reflect.DeepEqual(s.OwnerRoutes["data-team"], []string{"a@example.com", "b@example.com"}) ||
		s.Engine.Mode != config.Notify || s.Engine.Encryption != config.SSEKMS || !s.Engine.EnforceVersioning ||
		!s.CreateTrail || s.LogRetentionDays != 365 || s.NoInvocationsAlarmHours != 12 || s.RemediateConcurrency != 0 {
		t.Errorf("settings %+v", s)
	}
	// Environment fallbacks, nothing looked up.
	s, err = ParseSettings(ctx(nil), func(k string) (string, bool) {
		return map[string]string{"CDK_DEFAULT_REGION": "ap-southeast-2", "CDK_DEFAULT_ACCOUNT": "444455556666"}[k], true
	})
	if err != nil || s.Regions[0] != "ap-southeast-2" || s.Account != "444455556666" || s.LogRetentionDays != 90 || s.RemediateConcurrency != DefaultRemediateConcurrency {
		t.Errorf("fallbacks: %+v %v", s, err)
	}
}

// Bad context fails synth with a message naming the key and what is allowed.
func TestParseSettingsErrors(t *testing.T) {
	tests := []struct {
		ctx  map[string]any
		want string
	}{
		{map[string]any{}, `context "regions": required`},
		{map[string]any{"regions": "eu-west-1,mars-1"}, `context "regions": "mars-1" is not a region name`},
		{map[string]any{"regions": "eu-west-1,eu-west-1"}, "listed twice"},
		{map[string]any{"regions": "eu-west-1", "account": "1234"}, `context "account": "1234" is not a 12-digit account id`},
		{map[string]any{"regions": "eu-west-1", "mode": "enforced"}, `context "mode": "enforced" is not enforce|notify`},
		{map[string]any{"regions": "eu-west-1", "encryption": "sse-kms"}, `context "kmsKeyArn": required when context "encryption" is sse-kms`},
		{map[string]any{"regions": "eu-west-1", "requireTls": "maybe"}, `context "requireTls": "maybe" is not true or false`},
		{map[string]any{"regions": "eu-west-1", "alertEmails": []any{"not an address"}}, `context "alertEmails": "not an address" is not an e-mail address`},
		{map[string]any{"regions": "eu-west-1", "ownerRoutes": "web-team"}, `context "ownerRoutes": must be an object`},
		{map[string]any{"regions": "eu-west-1", "ownerRoutes": map[string]any{"web-team": []any{}}}, `owner "web-team" has no e-mail address`},
		{map[string]any{"regions": "eu-west-1", "createTrail": "yes"}, `context "createTrail": yes is not true or false`},
		{map[string]any{"regions": "eu-west-1", "logRetentionDays": float64(10)}, `context "logRetentionDays": 10 is not one of [1 3 5 7 14 30`},
		{map[string]any{"regions": "eu-west-1", "noInvocationsAlarmHours": "-1"}, `context "noInvocationsAlarmHours"`},
		{map[string]any{"regions": "eu-west-1", "sweepSchedule": "daily"}, `context "sweepSchedule": "daily" is not rate(`},
		{map[string]any{"regions": "eu-west-1", "remediateConcurrency": float64(-1)}, `context "remediateConcurrency": -1 is not a whole number from 0 (unreserved) to 1000`},
		{map[string]any{"regions": "eu-west-1", "remediateConcurrency": "lots"}, `context "remediateConcurrency": lots is not a whole number`},
		{map[string]any{"regions": "eu-west-1", "sweepConcurrency": float64(100)}, `context "sweepConcurrency": "100" is not a whole number from 1 to 64`},
		{map[string]any{"regions": "eu-west-1", "approvalTagKey": "aws:x"}, `context "approvalTagKey": "aws:x" starts with the reserved prefix aws:`},
		{map[string]any{"regions": "eu-west-1", "mode": map[string]any{}}, `context "mode": map[] is not a string`},
	}
	for _, tt := range tests {
		_, err := ParseSettings(ctx(tt.ctx), noEnv)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v:\n got %v\nwant %q", tt.ctx, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "BUCKETGUARD_") {
			t.Errorf("message names an environment variable, not the context key: %v", err)
		}
	}
}

// Every context key is documented once, and every function setting that
// has a context key in config's table is among them.
func TestContextKeysAreDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range ContextKeys() {
		if k.Meaning == "" || seen[k.Key] {
			t.Errorf("key %s: no meaning, or listed twice", k.Key)
		}
		seen[k.Key] = true
	}
	for _, st := range config.Settings() {
		if st.Context != "" && !seen[st.Context] {
			t.Errorf("setting %s has context key %q, which the app does not read", st.Env, st.Context)
		}
	}
}
