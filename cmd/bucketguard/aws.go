package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	awssecurityhub "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/analyzer"
	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/clients"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/coverage"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/ledger"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/securityhub"
	"github.com/bucketguard/bucketguard/remediations/startup"
	"github.com/bucketguard/bucketguard/remediations/sweep"
	"github.com/bucketguard/bucketguard/remediations/undo"
)

// deps is what the AWS-backed commands run with.
type deps struct {
	Control remediations.ControlClient
	List    sweep.Lister
	// ForRegion returns the S3 client for a region, built once; "" is the
	// SDK's default region. S3 does not follow a request to another
	// region's endpoint, so each bucket is read through its own region's.
	ForRegion func(region string) remediations.S3Client
	SNS       alert.Publisher
	SQS       alert.Queue
	// Ledger is the ledger table (BUCKETGUARD_ALERT_LEDGER_TABLE), nil
	// when none is set: replay runs with it, undo reads it.
	Ledger   Ledger
	Analyzer analyzer.CheckNoPublicAccessAPIClient
	Config   config.Config
	Account  func(ctx context.Context) (string, error)
	// Caller is the ARN of whoever runs the CLI (an undo names them).
	Caller func(ctx context.Context) (string, error)
	// TagsFor returns the tag writer for a region (undo's approval).
	TagsFor func(region string) TagWriter
	// UploaderFor returns the S3 client that publishes to a region's
	// asset bucket.
	UploaderFor  func(region string) Uploader
	BucketRegion func(ctx context.Context, bucket string) (string, error)
	Region       string // the SDK's default region
	Now          func() time.Time
	Log          *slog.Logger
	// Coverage reads the organization, the StackSet and the heartbeats.
	Coverage coverage.Sources
	// FindingsFor returns the Security Hub client of a region, or is nil
	// when BUCKETGUARD_SECURITY_HUB is off.
	FindingsFor func(region string) securityhub.Client

	findingsMu sync.Mutex
	findings   map[string]*securityhub.Reporter
}

// findingsOf is the region's Security Hub reporter, built once, or nil. It
// batches, as the sweep does; flushFindings imports what is left.
func (d *deps) findingsOf(region string) *securityhub.Reporter {
	if d.FindingsFor == nil {
		return nil
	}
	d.findingsMu.Lock()
	defer d.findingsMu.Unlock()
	if r, ok := d.findings[region]; ok {
		return r
	}
	r := &securityhub.Reporter{Client: d.FindingsFor(region), Region: region, Batch: true, CallTimeout: d.Config.CallTimeout}
	if d.Ledger != nil {
		r.Memory = d.Ledger
	}
	if d.findings == nil {
		d.findings = map[string]*securityhub.Reporter{}
	}
	d.findings[region] = r
	return r
}

// flushFindings imports the findings still batched, in every region.
func (d *deps) flushFindings(ctx context.Context) {
	d.findingsMu.Lock()
	rs := make([]*securityhub.Reporter, 0, len(d.findings))
	for _, r := range d.findings {
		rs = append(rs, r)
	}
	d.findingsMu.Unlock()
	for _, r := range rs {
		r.Flush(ctx, d.Log)
	}
}

// awsDeps reads the configuration once and builds the real clients.
func awsDeps(ctx context.Context) (*deps, error) {
	cfg, err := config.FromEnv(os.LookupEnv)
	if err != nil {
		return nil, invalid("configuration: %v", err)
	}
	set, err := clients.Load(ctx, awsconfig.WithHTTPClient(clients.HTTPClient(cfg.CallTimeout, startup.Conns(cfg))))
	if err != nil {
		return nil, err
	}
	level := slog.LevelWarn
	if _, ok := os.LookupEnv(config.EnvLogLevel); ok {
		level = cfg.LogLevel
	}
	var mu sync.Mutex
	perRegion := map[string]*s3.Client{}
	clientFor := func(region string) *s3.Client {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := perRegion[region]; ok {
			return c
		}
		cfg := set.Config.Copy()
		if region != "" {
			cfg.Region = region
		}
		c := clients.New(cfg).S3
		perRegion[region] = c
		return c
	}
	identity := sts.NewFromConfig(set.Config)
	account := func(ctx context.Context) (string, error) {
		out, err := identity.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", fmt.Errorf("get caller identity: %w", err)
		}
		return aws.ToString(out.Account), nil
	}
	caller := func(ctx context.Context) (string, error) {
		out, err := identity.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", fmt.Errorf("get caller identity: %w", err)
		}
		return aws.ToString(out.Arn), nil
	}
	forRegion := func(region string) remediations.S3Client { return clientFor(region) }
	var findingsFor func(string) securityhub.Client
	if cfg.SecurityHub {
		findingsFor = func(region string) securityhub.Client {
			c := set.Config.Copy()
			if region != "" {
				c.Region = region
			}
			return awssecurityhub.NewFromConfig(c)
		}
	}
	tagsFor := func(region string) TagWriter { return clientFor(region) }
	uploaderFor := func(region string) Uploader { return clientFor(region) }
	return &deps{
		Caller: caller, TagsFor: tagsFor, UploaderFor: uploaderFor,
		Control: set.Control, List: set.S3, ForRegion: forRegion, SNS: set.SNS, SQS: set.SQS, Ledger: ledgerOf(set, cfg), Analyzer: set.Analyzer, Config: cfg,
		Account: account, BucketRegion: set.BucketRegion, Region: set.Config.Region, Now: time.Now, FindingsFor: findingsFor,
		Log:      slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		Coverage: coverage.Sources{Organization: organizations.NewFromConfig(set.Config), Instances: cloudformation.NewFromConfig(set.Config), Heartbeats: set.DynamoDB},
	}, nil
}

// target finds a bucket's account and region.
func (d *deps) target(ctx context.Context, c *cli, bucket string) (posture.Target, error) {
	account, err := d.Account(ctx)
	if err != nil {
		return posture.Target{}, err
	}
	region, err := d.BucketRegion(ctx, bucket)
	if err != nil {
		if awserr.NoSuchBucket(err) || d.Region == "" {
			return posture.Target{}, err
		}
		fmt.Fprintf(c.stderr, "bucketguard: %v; assuming the bucket is in %s\n", err, d.Region)
		region = d.Region
	}
	return posture.Target{Account: account, Region: region, Bucket: bucket}, nil
}

// Ledger is what the CLI reads and keeps in the ledger table.
type Ledger interface {
	startup.Ledger
	Undo(ctx context.Context, account, bucket string) (*undo.Record, error)
}

var _ Ledger = (*ledger.Store)(nil)

// ledgerOf is the configured ledger table, or nil.
func ledgerOf(set clients.Set, cfg config.Config) Ledger {
	if cfg.LedgerTable == "" {
		return nil
	}
	return &ledger.Store{DB: set.DynamoDB, Table: cfg.LedgerTable}
}

// sender delivers alerts to the configured topic (and fallback queue), or
// is nil (render only) when no topic is configured.
func (d *deps) sender() *alert.Sender {
	if d.Config.TopicARN == "" {
		return nil
	}
	return &alert.Sender{SNS: d.SNS, TopicARN: d.Config.TopicARN, OpsTopicARN: d.Config.OpsTopicARN, Fallback: d.SQS, FallbackURL: d.Config.FallbackQueueURL}
}

// incidents runs evaluations of one region in the given mode as the
// functions do; send false renders alerts without sending them, and
// imports nothing to Security Hub. Only an incident with a key (replay's
// event) uses the ledger, when one is configured: an operator's explicit
// check, remediate or scan always alerts.
func (d *deps) incidents(mode config.Mode, region string, send bool) *incident.Protocol {
	p := &incident.Protocol{Engine: d.engine(mode, region), CallTimeout: d.Config.CallTimeout, Now: d.Now}
	if send {
		p.Alerts = d.sender()
		if r := d.findingsOf(region); r != nil {
			p.Reporter = r
		}
	}
	if d.Ledger != nil && send {
		p.Engine.Approvals, p.Store = d.Ledger, d.Ledger
	}
	return p
}

// engine evaluates buckets of one region in the given mode.
func (d *deps) engine(mode config.Mode, region string) *remediations.Engine {
	cfg := d.Config
	cfg.Mode = mode
	return &remediations.Engine{S3: d.ForRegion(region), Control: d.Control, Analyzer: d.Analyzer, Config: cfg, Now: d.Now}
}
