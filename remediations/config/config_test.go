package config_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/op"
)

const key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func TestDefaults(t *testing.T) {
	c, err := config.FromEnv(config.Lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, config.Default()) {
		t.Errorf("empty environment: %+v", c)
	}
	if c.Mode != config.Enforce || c.Encryption != config.SSES3 || !c.RequireTLS || c.EnforceVersioning || c.AccessLogBucket != "" ||
		c.EnforceOwnership || c.EnforceAccountBPA || c.ApprovalTagKey != "bucketguard:approved-public" || c.ApprovalUntilTagKey != "bucketguard:approved-until" {
		t.Errorf("defaults are not the documented ones: %+v", c)
	}
	if err := c.CheckLambda(); err == nil || !strings.Contains(err.Error(), config.EnvTopicARN) || !strings.Contains(err.Error(), config.EnvSelfRoleARN) {
		t.Errorf("CheckLambda = %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	envs := []map[string]string{
		{},
		{config.EnvMode: "notify", config.EnvTopicARN: "arn:aws:sns:eu-west-1:111122223333:bucketguard-alerts",
			config.EnvSelfRoleARN: "arn:aws:iam::111122223333:role/bucketguard/remediator"},
		{config.EnvEncryption: "sse-kms", config.EnvKMSKeyARN: key, config.EnvBucketKey: "false", config.EnvRequireTLS: "false"},
		{config.EnvEnforceVersioning: "true", config.EnvAccessLogBucket: "acme-logs", config.EnvAccessLogPrefix: "s3/",
			config.EnvEnforceOwnership: "true", config.EnvEnforceAccountBPA: "true", config.EnvApprovalTagKey: "public-ok",
			config.EnvApprovalUntilTagKey: "public-ok-until", config.EnvOwnerTagKey: "team", config.EnvCallTimeout: "8s",
			config.EnvLogLevel: "debug", config.EnvSweepConcurrency: "8", config.EnvStackRegions: "eu-west-1,us-east-1", config.EnvSweepMargin: "1m30s", config.EnvFallbackQueueURL: "https://sqs.eu-west-1.amazonaws.com/111122223333/bucketguard-undelivered"},
	}
	for _, env := range envs {
		c, err := config.FromEnv(config.Lookup(env))
		if err != nil {
			t.Fatalf("%v: %v", env, err)
		}
		back, err := config.FromEnv(config.Lookup(c.Environ()))
		if err != nil {
			t.Fatalf("Environ %v: %v", c.Environ(), err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("round trip:\n got %+v\nwant %+v", back, c)
		}
		if !reflect.DeepEqual(c.Environ(), env) {
			t.Errorf("Environ = %v, want %v", c.Environ(), env)
		}
	}
}

func TestBadValuesNameTheirSetting(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{config.EnvMode: "enforced"}, `BUCKETGUARD_MODE: "enforced" is not enforce|notify`},
		{map[string]string{config.EnvTopicARN: "bucketguard-alerts"}, config.EnvTopicARN},
		{map[string]string{config.EnvAcceptedKMSKeys: "alias/team"}, config.EnvAcceptedKMSKeys},
		{map[string]string{config.EnvAcceptedKMSKeys: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}, config.EnvAcceptedKMSKeys}, // sse-s3
		{map[string]string{config.EnvSelfRoleARN: "arn:aws:iam::111122223333:user/x"}, config.EnvSelfRoleARN},
		{map[string]string{config.EnvEncryption: "kms"}, config.EnvEncryption},
		{map[string]string{config.EnvEncryption: "sse-kms"}, config.EnvKMSKeyARN + ": required"},
		{map[string]string{config.EnvKMSKeyARN: key}, "set, but BUCKETGUARD_ENCRYPTION is sse-s3"},
		{map[string]string{config.EnvEncryption: "sse-kms", config.EnvKMSKeyARN: "alias/aws/s3"}, "aliases are not accepted"},
		{map[string]string{config.EnvRequireTLS: "yes please"}, config.EnvRequireTLS},
		{map[string]string{config.EnvBucketKey: "2"}, config.EnvBucketKey},
		{map[string]string{config.EnvAccessLogBucket: "Bad Bucket"}, config.EnvAccessLogBucket},
		{map[string]string{config.EnvApprovalTagKey: "aws:approved"}, "reserved prefix aws:"},
		{map[string]string{config.EnvOwnerTagKey: strings.Repeat("k", 129)}, config.EnvOwnerTagKey},
		{map[string]string{config.EnvApprovalTagKey: "x", config.EnvApprovalUntilTagKey: "x"}, "both are the same tag"},
		{map[string]string{config.EnvCallTimeout: "100ms"}, config.EnvCallTimeout},
		{map[string]string{config.EnvCallTimeout: "soon"}, config.EnvCallTimeout},
		{map[string]string{config.EnvEventAttempts: "4"}, config.EnvEventAttempts},
		{map[string]string{config.EnvLogLevel: "loud"}, config.EnvLogLevel},
		{map[string]string{config.EnvSweepConcurrency: "0"}, config.EnvSweepConcurrency},
		{map[string]string{config.EnvSweepMargin: "1s"}, config.EnvSweepMargin},
		{map[string]string{config.EnvFallbackQueueURL: "sqs://queue"}, config.EnvFallbackQueueURL},
		{map[string]string{config.EnvStackRegions: "eu-west-1,mars"}, config.EnvStackRegions},
		{map[string]string{config.EnvStackRegions: "eu-west-1,eu-west-1"}, config.EnvStackRegions},
	}
	for _, tt := range tests {
		_, err := config.FromEnv(config.Lookup(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want it to mention %q", tt.env, err, tt.want)
		}
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	_, err := config.FromEnv(config.Lookup(map[string]string{config.EnvMode: "x", config.EnvEncryption: "y", config.EnvLogLevel: "z"}))
	for _, env := range []string{config.EnvMode, config.EnvEncryption, config.EnvLogLevel} {
		if err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("error %v does not name %s", err, env)
		}
	}
}

func TestIAMActionsFollowConfig(t *testing.T) {
	c := config.Default()
	base := c.BucketActions()
	wantAccount := "access-analyzer:CheckNoPublicAccess s3:GetAccessPoint s3:GetAccountPublicAccessBlock s3:ListAccessPoints s3:ListAccessPointsForObjectLambda s3:ListMultiRegionAccessPoints"
	if got := strings.Join(c.AccountActions(), " "); got != wantAccount {
		t.Errorf("account actions %v, want reads and AWS's policy check only: %s", got, wantAccount)
	}
	c.EnforceVersioning, c.AccessLogBucket, c.EnforceOwnership, c.EnforceAccountBPA = true, "logs", true, true
	all := c.BucketActions()
	if len(all) != len(base)+5 {
		t.Errorf("optional controls add %d actions, want 5: %v", len(all)-len(base), all)
	}
	granted := append(all, c.AccountActions()...)
	for _, r := range []op.Resource{op.AccessPointARN, op.ObjectLambdaARN, op.MultiRegionARN} {
		granted = append(granted, c.Actions(r)...)
	}
	for _, a := range granted {
		// No wildcard, and nothing on object data ("ObjectLambda" names the
		// access point kind, not an object action).
		if strings.ContainsAny(a, "*?") || strings.Contains(strings.ReplaceAll(a, "ObjectLambda", ""), "Object") ||
			(!strings.HasPrefix(a, "s3:") && a != "access-analyzer:CheckNoPublicAccess") {
			t.Errorf("action %q", a)
		}
	}
}

// Every field of Config is set by exactly one setting of the table (SelfRoles
// is SelfRoleARN parsed), and every setting is documented: a field added
// without a row, or a row without a field, fails here.
func TestEveryFieldHasOneSetting(t *testing.T) {
	fields := map[string]int{}
	for _, s := range config.Settings() {
		if !strings.HasPrefix(s.Env, "BUCKETGUARD_") || s.Meaning == "" {
			t.Errorf("setting %+v", s)
		}
		fields[s.Field]++
	}
	typ := reflect.TypeFor[config.Config]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if name == "SelfRoles" {
			continue
		}
		if fields[name] != 1 {
			t.Errorf("Config.%s is set by %d settings, want 1", name, fields[name])
		}
		delete(fields, name)
	}
	for f := range fields {
		t.Errorf("a setting sets %q, which is not a Config field", f)
	}
}

// A setting's context key, when it has one, is unique.
func TestContextKeysAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range config.Settings() {
		if s.Context != "" && seen[s.Context] {
			t.Errorf("context key %q twice", s.Context)
		}
		seen[s.Context] = true
	}
}

// SettingError names the setting, and the related one, however the caller
// names them.
func TestSettingErrorNames(t *testing.T) {
	_, err := config.FromEnv(config.Lookup(map[string]string{config.EnvEncryption: "sse-kms"}))
	var se *config.SettingError
	if !errors.As(err, &se) || se.Setting.Env != config.EnvKMSKeyARN {
		t.Fatalf("error %v is not a SettingError for %s", err, config.EnvKMSKeyARN)
	}
	msg := se.Message(func(s config.Setting) string { return "<" + s.Context + ">" })
	if msg != "<kmsKeyArn>: required when <encryption> is sse-kms" {
		t.Errorf("message %q", msg)
	}
}
