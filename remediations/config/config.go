// Package config holds bucketguard's settings: parsed once, at start-up,
// from the environment into a typed Config. Every bad value fails with a
// message that names its setting; nothing is clamped or guessed.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
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

// The environment variables, one per setting.
const (
	EnvMode                = "BUCKETGUARD_MODE"
	EnvTopicARN            = "BUCKETGUARD_TOPIC_ARN"
	EnvSelfRoleARN         = "BUCKETGUARD_SELF_ROLE_ARN"
	EnvEncryption          = "BUCKETGUARD_ENCRYPTION"
	EnvKMSKeyARN           = "BUCKETGUARD_KMS_KEY_ARN"
	EnvBucketKey           = "BUCKETGUARD_BUCKET_KEY"
	EnvRequireTLS          = "BUCKETGUARD_REQUIRE_TLS"
	EnvEnforceVersioning   = "BUCKETGUARD_ENFORCE_VERSIONING"
	EnvAccessLogBucket     = "BUCKETGUARD_ACCESS_LOG_BUCKET"
	EnvAccessLogPrefix     = "BUCKETGUARD_ACCESS_LOG_PREFIX"
	EnvEnforceOwnership    = "BUCKETGUARD_ENFORCE_OWNERSHIP"
	EnvEnforceAccountBPA   = "BUCKETGUARD_ENFORCE_ACCOUNT_BPA"
	EnvApprovalTagKey      = "BUCKETGUARD_APPROVAL_TAG_KEY"
	EnvApprovalUntilTagKey = "BUCKETGUARD_APPROVAL_UNTIL_TAG_KEY"
	EnvOwnerTagKey         = "BUCKETGUARD_OWNER_TAG_KEY"
	EnvFallbackQueueURL    = "BUCKETGUARD_ALERT_FALLBACK_QUEUE_URL"
	EnvLedgerTable         = "BUCKETGUARD_ALERT_LEDGER_TABLE"
	EnvDeadlineMargin      = "BUCKETGUARD_DEADLINE_MARGIN"
	EnvSweepConcurrency    = "BUCKETGUARD_SWEEP_CONCURRENCY"
	EnvSweepMargin         = "BUCKETGUARD_SWEEP_MARGIN"
	EnvLogLevel            = "BUCKETGUARD_LOG_LEVEL"
)

// Config is every setting, typed.
type Config struct {
	Mode Mode
	// TopicARN is the SNS topic alerts go to. The Lambda requires it; the
	// CLI publishes only when it is set.
	TopicARN string
	// SelfRoleARN lists bucketguard's own roles (comma-separated): their
	// changes are skipped.
	SelfRoleARN string
	SelfRoles   []events.Role
	Encryption  Encryption
	KMSKeyARN   string
	BucketKey   bool
	RequireTLS  bool
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
	// DeadlineMargin is how much time must be left before the invocation's
	// deadline for bucketguard to start another write.
	DeadlineMargin time.Duration
	// SweepConcurrency is how many buckets a sweep evaluates at once.
	SweepConcurrency int
	// SweepMargin is how much time must be left before the sweep's deadline
	// to start another bucket.
	SweepMargin time.Duration
	LogLevel    slog.Level
}

// Setting describes one environment variable, for the README and --help.
type Setting struct {
	Env     string
	Default string
	Meaning string
}

// Settings lists every environment variable with its default.
func Settings() []Setting {
	d := Default()
	return []Setting{
		{EnvMode, string(d.Mode), "`enforce` fixes and alerts; `notify` only alerts"},
		{EnvTopicARN, "", "SNS topic for alerts (required by the Lambda)"},
		{EnvSelfRoleARN, "", "bucketguard's own role ARNs, comma-separated; their changes are skipped (required by the Lambda)"},
		{EnvEncryption, string(d.Encryption), "default encryption to restore: `sse-s3` or `sse-kms`"},
		{EnvKMSKeyARN, "", "KMS key ARN for `sse-kms` (required with it)"},
		{EnvBucketKey, strconv.FormatBool(d.BucketKey), "S3 Bucket Key with `sse-kms`"},
		{EnvRequireTLS, strconv.FormatBool(d.RequireTLS), "keep a Deny on aws:SecureTransport=false in every bucket policy"},
		{EnvEnforceVersioning, "false", "turn versioning on"},
		{EnvAccessLogBucket, "", "turn server access logging on, to this bucket"},
		{EnvAccessLogPrefix, "", "prefix for access logs; the bucket name and `/` are appended"},
		{EnvEnforceOwnership, "false", "set Object Ownership to BucketOwnerEnforced (ACLs off)"},
		{EnvEnforceAccountBPA, "false", "turn on all four account-level Block Public Access settings"},
		{EnvApprovalTagKey, d.ApprovalTagKey, "tag that approves public read (value `true`)"},
		{EnvApprovalUntilTagKey, d.ApprovalUntilTagKey, "optional RFC 3339 expiry of the approval"},
		{EnvOwnerTagKey, d.OwnerTagKey, "tag naming the bucket's owner; sent as the `owner` message attribute"},
		{EnvFallbackQueueURL, "", "SQS queue for alerts SNS would not take"},
		{EnvLedgerTable, "", "DynamoDB table (key `pk`, TTL `expires`) that stops a redelivered event from alerting twice"},
		{EnvDeadlineMargin, d.DeadlineMargin.String(), "time that must remain before the Lambda deadline to start a write"},
		{EnvSweepConcurrency, strconv.Itoa(d.SweepConcurrency), "buckets a sweep evaluates at once (1 to 32)"},
		{EnvSweepMargin, d.SweepMargin.String(), "time that must remain before the sweep's deadline to start another bucket"},
		{EnvLogLevel, "info", "`debug`, `info`, `warn` or `error`"},
	}
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
		DeadlineMargin:      5 * time.Second,
		// Four buckets at once is eight to ten reads in flight each: a few
		// dozen control-plane calls at a time, well below where S3 throttles
		// bucket-configuration calls, which the SDK's retries absorb anyway.
		SweepConcurrency: 4,
		SweepMargin:      time.Minute,
		LogLevel:         slog.LevelInfo,
	}
}

var (
	topicRE  = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
	kmsKeyRE = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(mrk-)?[0-9a-fA-F-]{32,36}$`)
	tableRE  = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	queueRE  = regexp.MustCompile(`^https?://[A-Za-z0-9.:-]+/[0-9]{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$`)
)

// FromEnv reads the configuration through lookup (os.LookupEnv in main, a
// map in tests). It reports every bad setting at once, each by name.
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	var errs []error
	bad := func(env, val, why string) {
		errs = append(errs, fmt.Errorf("%s: %q %s", env, val, why))
	}
	get := func(env string) (string, bool) {
		v, ok := lookup(env)
		return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
	}
	boolean := func(env string, dst *bool) {
		if v, ok := get(env); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad(env, v, "is not true or false")
				return
			}
			*dst = b
		}
	}

	if v, ok := get(EnvMode); ok {
		switch Mode(v) {
		case Enforce, Notify:
			c.Mode = Mode(v)
		default:
			bad(EnvMode, v, "is not enforce|notify")
		}
	}
	if v, ok := get(EnvTopicARN); ok {
		if !topicRE.MatchString(v) {
			bad(EnvTopicARN, v, "is not an SNS topic ARN")
		}
		c.TopicARN = v
	}
	if v, ok := get(EnvSelfRoleARN); ok {
		r, err := events.ParseRoles(v)
		if err != nil || len(r) == 0 {
			bad(EnvSelfRoleARN, v, "is not a comma-separated list of IAM role ARNs")
		}
		c.SelfRoleARN, c.SelfRoles = v, r
	}
	if v, ok := get(EnvEncryption); ok {
		switch Encryption(v) {
		case SSES3, SSEKMS:
			c.Encryption = Encryption(v)
		default:
			bad(EnvEncryption, v, "is not sse-s3|sse-kms")
		}
	}
	if v, ok := get(EnvKMSKeyARN); ok {
		if !kmsKeyRE.MatchString(v) {
			bad(EnvKMSKeyARN, v, "is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>; aliases are not accepted)")
		}
		c.KMSKeyARN = v
	}
	switch {
	case c.Encryption == SSEKMS && c.KMSKeyARN == "":
		errs = append(errs, fmt.Errorf("%s: required when %s is sse-kms", EnvKMSKeyARN, EnvEncryption))
	case c.Encryption == SSES3 && c.KMSKeyARN != "":
		errs = append(errs, fmt.Errorf("%s: set, but %s is sse-s3; set %s=sse-kms to use the key", EnvKMSKeyARN, EnvEncryption, EnvEncryption))
	}
	boolean(EnvBucketKey, &c.BucketKey)
	boolean(EnvRequireTLS, &c.RequireTLS)
	boolean(EnvEnforceVersioning, &c.EnforceVersioning)
	boolean(EnvEnforceOwnership, &c.EnforceOwnership)
	boolean(EnvEnforceAccountBPA, &c.EnforceAccountBPA)
	if v, ok := get(EnvAccessLogBucket); ok {
		if !events.ValidBucketName(v) {
			bad(EnvAccessLogBucket, v, "is not a bucket name")
		}
		c.AccessLogBucket = v
	}
	if v, ok := lookup(EnvAccessLogPrefix); ok && v != "" {
		if len(v) > 512 {
			bad(EnvAccessLogPrefix, v[:32]+"...", "is longer than 512 characters")
		}
		c.AccessLogPrefix = v
	}
	for _, t := range []struct {
		env string
		dst *string
	}{{EnvApprovalTagKey, &c.ApprovalTagKey}, {EnvApprovalUntilTagKey, &c.ApprovalUntilTagKey}, {EnvOwnerTagKey, &c.OwnerTagKey}} {
		if v, ok := get(t.env); ok {
			if why := tagKeyProblem(v); why != "" {
				bad(t.env, v, why)
			}
			*t.dst = v
		}
	}
	if c.ApprovalTagKey == c.ApprovalUntilTagKey {
		errs = append(errs, fmt.Errorf("%s and %s: both are %q", EnvApprovalTagKey, EnvApprovalUntilTagKey, c.ApprovalTagKey))
	}
	if v, ok := get(EnvFallbackQueueURL); ok {
		if !queueRE.MatchString(v) {
			bad(EnvFallbackQueueURL, v, "is not an SQS queue URL")
		}
		c.FallbackQueueURL = v
	}
	if v, ok := get(EnvLedgerTable); ok {
		if !tableRE.MatchString(v) {
			bad(EnvLedgerTable, v, "is not a DynamoDB table name")
		}
		c.LedgerTable = v
	}
	if v, ok := get(EnvDeadlineMargin); ok {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			bad(EnvDeadlineMargin, v, "is not a duration like 5s")
		case d < time.Second || d > time.Minute:
			bad(EnvDeadlineMargin, v, "is not between 1s and 1m")
		default:
			c.DeadlineMargin = d
		}
	}
	if v, ok := get(EnvSweepConcurrency); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 32 {
			bad(EnvSweepConcurrency, v, "is not a whole number from 1 to 32")
		} else {
			c.SweepConcurrency = n
		}
	}
	if v, ok := get(EnvSweepMargin); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second || d > 10*time.Minute {
			bad(EnvSweepMargin, v, "is not a duration from 10s to 10m")
		} else {
			c.SweepMargin = d
		}
	}
	if v, ok := get(EnvLogLevel); ok {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil || !validLevel(v) {
			bad(EnvLogLevel, v, "is not debug|info|warn|error")
		}
	}
	return c, errors.Join(errs...)
}

func validLevel(v string) bool {
	switch strings.ToLower(v) {
	case "debug", "info", "warn", "error":
		return true
	}
	return false
}

// tagKeyProblem checks S3's tag key rules: 1 to 128 Unicode characters, not
// starting with the reserved "aws:".
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-managing.html
func tagKeyProblem(k string) string {
	switch {
	case len([]rune(k)) > 128:
		return "is longer than 128 characters"
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return "starts with the reserved prefix aws:"
	}
	return ""
}

// CheckLambda reports the settings the Lambda needs and the CLI does not.
func (c Config) CheckLambda() error {
	var errs []error
	if c.TopicARN == "" {
		errs = append(errs, fmt.Errorf("%s: required", EnvTopicARN))
	}
	if c.SelfRoleARN == "" {
		errs = append(errs, fmt.Errorf("%s: required", EnvSelfRoleARN))
	}
	return errors.Join(errs...)
}

// Environ is the inverse of FromEnv: the variables that, read back, give c.
// The CDK app sets the function's environment with it.
func (c Config) Environ() map[string]string {
	d := Default()
	env := map[string]string{}
	set := func(k, v, def string) {
		if v != def {
			env[k] = v
		}
	}
	set(EnvMode, string(c.Mode), string(d.Mode))
	set(EnvTopicARN, c.TopicARN, "")
	set(EnvSelfRoleARN, c.SelfRoleARN, "")
	set(EnvEncryption, string(c.Encryption), string(d.Encryption))
	set(EnvKMSKeyARN, c.KMSKeyARN, "")
	set(EnvBucketKey, strconv.FormatBool(c.BucketKey), strconv.FormatBool(d.BucketKey))
	set(EnvRequireTLS, strconv.FormatBool(c.RequireTLS), strconv.FormatBool(d.RequireTLS))
	set(EnvEnforceVersioning, strconv.FormatBool(c.EnforceVersioning), "false")
	set(EnvAccessLogBucket, c.AccessLogBucket, "")
	set(EnvAccessLogPrefix, c.AccessLogPrefix, "")
	set(EnvEnforceOwnership, strconv.FormatBool(c.EnforceOwnership), "false")
	set(EnvEnforceAccountBPA, strconv.FormatBool(c.EnforceAccountBPA), "false")
	set(EnvApprovalTagKey, c.ApprovalTagKey, d.ApprovalTagKey)
	set(EnvApprovalUntilTagKey, c.ApprovalUntilTagKey, d.ApprovalUntilTagKey)
	set(EnvOwnerTagKey, c.OwnerTagKey, d.OwnerTagKey)
	set(EnvFallbackQueueURL, c.FallbackQueueURL, "")
	set(EnvLedgerTable, c.LedgerTable, "")
	set(EnvDeadlineMargin, c.DeadlineMargin.String(), d.DeadlineMargin.String())
	set(EnvSweepConcurrency, strconv.Itoa(c.SweepConcurrency), strconv.Itoa(d.SweepConcurrency))
	set(EnvSweepMargin, c.SweepMargin.String(), d.SweepMargin.String())
	set(EnvLogLevel, strings.ToLower(c.LogLevel.String()), "info")
	return env
}

// Lookup turns a map into a lookup function for FromEnv.
func Lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// Names returns the environment variable names, sorted.
func Names() []string {
	var out []string
	for _, s := range Settings() {
		out = append(out, s.Env)
	}
	sort.Strings(out)
	return out
}
