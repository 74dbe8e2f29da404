// Package config holds bucketguard's settings: parsed once, at start-up,
// from the environment into a typed Config. One table (settings.go) says,
// for every setting, its environment variable, its CDK context key, its
// default, what it means, how it is parsed and how it is written back:
// FromEnv, Environ, the docs' table and the stack's context keys all come
// from it. Every bad value fails with a SettingError that names its setting;
// nothing is clamped or guessed.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/bucketguard/bucketguard/events"
)

// Mode says whether bucketguard fixes what it finds or only reports it.
type Mode string

// The modes.
const (
	Enforce Mode = "enforce" // plan, apply, verify, alert
	Notify  Mode = "notify"  // plan and alert; write nothing
)

// Encryption is the default encryption bucketguard restores.
type Encryption string

// The encryption choices.
const (
	SSES3  Encryption = "sse-s3"
	SSEKMS Encryption = "sse-kms"
)

// Config is every setting, typed.
type Config struct {
	Mode Mode
	// TopicARN is the SNS topic alerts go to. The Lambda requires it; the
	// CLI publishes only when it is set.
	TopicARN string
	// SelfRoleARN lists bucketguard's own roles (comma-separated): their
	// changes are skipped. SelfRoles is the same, parsed.
	SelfRoleARN string
	SelfRoles   []events.Role
	Encryption  Encryption
	KMSKeyARN   string
	// AcceptedKMSKeys are the other keys a bucket may use with sse-kms;
	// when set, any other key is replaced.
	AcceptedKMSKeys []string
	BucketKey       bool
	RequireTLS      bool
	// The optional controls, off by default.
	EnforceVersioning bool
	AccessLogBucket   string // server access logging is on when set
	AccessLogPrefix   string
	EnforceOwnership  bool
	EnforceAccountBPA bool
	// Tags.
	ApprovalTagKey      string
	ApprovalUntilTagKey string
	OwnerTagKey         string
	// FallbackQueueURL receives alerts SNS would not take.
	FallbackQueueURL string
	// LedgerTable is the DynamoDB table that remembers sent alerts.
	LedgerTable string
	// CallTimeout bounds each attempt of every AWS call (the SDK's HTTP
	// client); the time kept for the read-back and the alert is derived
	// from it (Reserve).
	CallTimeout time.Duration
	// EventAttempts is how many times Lambda runs an event that fails (one
	// and its retries); the last attempt always alerts.
	EventAttempts int
	// SweepConcurrency is how many buckets a sweep evaluates at once.
	SweepConcurrency int
	// SweepMargin is how much time must be left before the sweep's deadline
	// to start another bucket.
	SweepMargin time.Duration
	// StackRegions are the regions with a stack, the first being home.
	StackRegions []string
	// SweepFixBudget is how many buckets one sweep run may fix.
	SweepFixBudget int
	// FightWindow and FightThreshold say when repeated fixes of one
	// setting of a bucket are a fight, told to the operations topic.
	FightWindow    time.Duration
	FightThreshold int
	// OpsTopicARN is the operations team's topic.
	OpsTopicARN string
	// CanaryBucket is the canary's bucket, when there is a canary.
	CanaryBucket string
	// SweepFunction names the sweep function the remediate function
	// starts after a guarded call (its ARN or name); "" starts none.
	SweepFunction string
	// HeartbeatBus is the organization's central event bus: the sweep puts
	// a heartbeat there after each run, when set.
	HeartbeatBus string
	// SecurityHub keeps the state of every target judged as AWS Security
	// Hub findings (package securityhub).
	SecurityHub bool
	// ChatTopicARN receives each alert as an Amazon Q Developer in chat
	// applications custom notification, when set.
	ChatTopicARN string
	LogLevel     slog.Level
}

// Default returns the configuration with no variable set.
func Default() Config {
	return Config{
		Mode:                Enforce,
		Encryption:          SSES3,
		BucketKey:           true,
		RequireTLS:          true,
		ApprovalTagKey:      "bucketguard:approved-public",
		ApprovalUntilTagKey: "bucketguard:approved-until",
		OwnerTagKey:         "owner",
		CallTimeout:         5 * time.Second,
		EventAttempts:       3,
		// Chosen by measurement (BenchmarkSweepAtLatency, every call held
		// 20 ms, make scale's mixed account): 48 buckets at once sweep
		// about 1,500 a second report-only and 1,000 with fixes, over the
		// targets (1,000 and 600) with a third to spare; 32 only just
		// meets them. See MaxSweepConcurrency for the bound.
		SweepConcurrency: 48,
		SweepMargin:      time.Minute,
		// A first sweep after a deploy, a wrong approval tag key or a judge
		// defect fixes at most this many buckets in one run.
		SweepFixBudget: 20,
		FightWindow:    time.Hour,
		FightThreshold: 3,
		LogLevel:       slog.LevelInfo,
	}
}

// SettingError is one bad setting. Reason may hold a %s per related
// setting, which Message fills in with their names.
type SettingError struct {
	Setting Setting
	// Value is the bad value, shown quoted; empty for a missing setting.
	Value   string
	Reason  string
	Related []Setting
}

// Message renders the error with the settings named by name: the
// environment variable here, the context key in the CDK app.
func (e *SettingError) Message(name func(Setting) string) string {
	args := make([]any, len(e.Related))
	for i, r := range e.Related {
		args[i] = name(r)
	}
	reason := fmt.Sprintf(e.Reason, args...)
	if e.Value != "" {
		return fmt.Sprintf("%s: %q %s", name(e.Setting), e.Value, reason)
	}
	return fmt.Sprintf("%s: %s", name(e.Setting), reason)
}

func (e *SettingError) Error() string { return e.Message(func(s Setting) string { return s.Env }) }

// FromEnv reads the configuration through lookup (os.LookupEnv in main, a
// map in tests). It reports every bad setting at once, each a SettingError.
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	var errs []error
	for _, f := range table {
		v, ok := lookup(f.Env)
		if !f.raw {
			v = strings.TrimSpace(v)
		}
		if !ok || v == "" {
			continue
		}
		if why := f.parse(&c, v); why != "" {
			shown := v
			if len(shown) > 64 {
				shown = shown[:32] + "..."
			}
			errs = append(errs, &SettingError{Setting: f.Setting, Value: shown, Reason: why})
		}
	}
	errs = append(errs, c.rules()...)
	return c, errors.Join(errs...)
}

// rules checks what involves more than one setting.
func (c Config) rules() []error {
	var errs []error
	switch {
	case c.Encryption == SSEKMS && c.KMSKeyARN == "":
		errs = append(errs, &SettingError{Setting: setting(EnvKMSKeyARN), Reason: "required when %s is sse-kms", Related: []Setting{setting(EnvEncryption)}})
	case c.Encryption == SSES3 && c.KMSKeyARN != "":
		errs = append(errs, &SettingError{Setting: setting(EnvKMSKeyARN), Reason: "set, but %s is sse-s3; set it to sse-kms to use the key", Related: []Setting{setting(EnvEncryption)}})
	}
	if len(c.AcceptedKMSKeys) > 0 && c.Encryption != SSEKMS {
		errs = append(errs, &SettingError{Setting: setting(EnvAcceptedKMSKeys), Reason: "set, but %s is not sse-kms", Related: []Setting{setting(EnvEncryption)}})
	}
	if c.ApprovalTagKey == c.ApprovalUntilTagKey {
		errs = append(errs, &SettingError{Setting: setting(EnvApprovalTagKey), Value: c.ApprovalTagKey, Reason: "is also %s: both are the same tag", Related: []Setting{setting(EnvApprovalUntilTagKey)}})
	}
	return errs
}

// CheckLambda reports the settings the Lambda needs and the CLI does not.
func (c Config) CheckLambda() error {
	var errs []error
	if c.TopicARN == "" {
		errs = append(errs, &SettingError{Setting: setting(EnvTopicARN), Reason: "required"})
	}
	if c.SelfRoleARN == "" {
		errs = append(errs, &SettingError{Setting: setting(EnvSelfRoleARN), Reason: "required"})
	}
	return errors.Join(errs...)
}

// Environ is the inverse of FromEnv: the variables that, read back, give c.
// The CDK app sets the function's environment with it.
func (c Config) Environ() map[string]string {
	d := Default()
	env := map[string]string{}
	for _, f := range table {
		if v := f.format(c); v != f.format(d) {
			env[f.Env] = v
		}
	}
	return env
}

// Lookup turns a map into a lookup function for FromEnv.
func Lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// Reserve is the time an evaluation keeps before its deadline for what
// comes after the writes, derived from the per-call bound so that it holds
// whatever AWS does: the read-back (one concurrent round, one call bound)
// and the alert (the publish, then the fallback queue, then the incident's
// record once delivered: three call bounds). A write starts
// only while Reserve and one more call bound are left, and its context
// ends Reserve before the deadline.
func (c Config) Reserve() (readBack, alert time.Duration) {
	return c.CallTimeout, 3 * c.CallTimeout
}

// MaxSweepConcurrency bounds the sweep's concurrency by what a Lambda
// execution environment allows: 1,024 file descriptors. Each bucket in
// flight holds its read round's connections at once (startup.Conns; the
// figure is in docs/README.md, Figures), so 64 buckets need under 1,000
// connections with the access point reads. More would not be faster either
// when S3 throttles: the adaptive retryer paces the requests anyway.
// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
const MaxSweepConcurrency = 64
