package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/contract"
)

// Uploader writes the organization's assets to one region's asset bucket.
type Uploader interface {
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

var _ Uploader = (*s3.Client)(nil)

type publishFlags struct {
	regions                []string
	home, version          string
	dist, template, prefix string
	dryRun                 bool
}

// A version is one path segment of plain characters.
var versionRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$`)

func parsePublishFlags(args []string) (publishFlags, error) {
	f := publishFlags{dist: "dist", template: filepath.Join("cdk.out", "BucketGuard-Member.template.json"), prefix: "bucketguard/"}
	args, err := flags("publish", args, func(fs *flag.FlagSet) {
		fs.Func("region", "a region the StackSet deploys to (repeatable, or comma-separated)", func(s string) error {
			for _, r := range strings.Split(s, ",") {
				if r = strings.TrimSpace(r); r != "" {
					f.regions = append(f.regions, r)
				}
			}
			return nil
		})
		fs.StringVar(&f.home, "home", "", "the admin stack's region, where the member template goes (default: the first --region)")
		fs.StringVar(&f.version, "version", "", "the version to publish: the key prefix is bucketguard/<version>/")
		fs.StringVar(&f.dist, "dist", f.dist, "where make build put remediate.zip and sweep.zip")
		fs.StringVar(&f.template, "template", f.template, "the member template make synth-org wrote")
		fs.BoolVar(&f.dryRun, "dry-run", false, "say what would be written, write nothing")
	})
	switch {
	case err != nil:
		return f, err
	case len(args) != 0:
		return f, invalid("publish takes no arguments, got %q", args)
	case len(f.regions) == 0:
		return f, invalid("--region is required: the regions the StackSet deploys to")
	case !versionRE.MatchString(f.version):
		return f, invalid("--version %q is not a version (letters, digits, '.', '_', '-'; say 1.4.0)", f.version)
	}
	if f.home == "" {
		f.home = f.regions[0]
	}
	if !slices.Contains(f.regions, f.home) {
		return f, invalid("--home %s is not one of the --region list: the home region has an asset bucket too", f.home)
	}
	for _, r := range append([]string{f.home}, f.regions...) {
		if !events.ValidRegion(r) {
			return f, invalid("--region %q is not a region name", r)
		}
	}
	return f, nil
}

// asset is one object to publish.
type asset struct {
	region, bucket, key string
	body                []byte
	sum                 [sha256.Size]byte
}

// publish writes a version's assets to the asset buckets: the functions'
// code in every region, the member template in the home region. A version
// is written once: an object already there with the same bytes is left as
// it is, one with other bytes stops the run (a version's stacks must not
// change under it; publish a new version). S3 checks each body against its
// SHA-256, and the write only succeeds where no object exists yet.
func publish(ctx context.Context, c *cli, args []string) error {
	f, err := parsePublishFlags(args)
	if err != nil {
		return err
	}
	files := map[string][]byte{}
	for _, name := range contract.AssetObjects {
		if files[name], err = os.ReadFile(filepath.Join(f.dist, name)); err != nil {
			return invalid("%v (make build writes it)", err)
		}
	}
	tpl, err := os.ReadFile(f.template)
	if err != nil {
		return invalid("%v (make synth-org writes it)", err)
	}
	if err := memberTemplate(tpl); err != nil {
		return invalid("%s: %v (make synth-org writes the member template)", f.template, err)
	}
	d, err := c.aws(ctx)
	if err != nil {
		return err
	}
	account, err := d.Account(ctx)
	if err != nil {
		return err
	}
	prefix := f.prefix + f.version + "/"
	var assets []asset
	add := func(region, name string, body []byte) {
		assets = append(assets, asset{region: region, bucket: contract.AssetBucketName(account, region), key: prefix + name, body: body, sum: sha256.Sum256(body)})
	}
	seen := map[string]bool{}
	for _, r := range f.regions {
		if seen[r] {
			continue
		}
		seen[r] = true
		for _, name := range contract.AssetObjects {
			add(r, name, files[name])
		}
	}
	add(f.home, contract.MemberTemplateObject, tpl)

	// Every bucket first, so that a missing one stops the run before it
	// writes anything (a dry run too).
	checked := map[string]bool{}
	for _, a := range assets {
		if checked[a.bucket] {
			continue
		}
		checked[a.bucket] = true
		if _, err := d.UploaderFor(a.region).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(a.bucket), ExpectedBucketOwner: aws.String(account)}); err != nil {
			return fmt.Errorf("asset bucket %s in %s (its stack: cdk deploy -c org=true BucketGuard-OrgAssets-%s): %w", a.bucket, a.region, a.region, err)
		}
	}
	for _, a := range assets {
		state, err := put(ctx, d.UploaderFor(a.region), a, f.dryRun)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%-10s s3://%s/%s  %d bytes  sha256 %s\n", state, a.bucket, a.key, len(a.body), hex.EncodeToString(a.sum[:]))
	}
	fmt.Fprintf(c.stdout, "\nthe admin stack's parameter: %s=%s\n", "AssetKeyPrefix", prefix)
	return nil
}

// put writes one asset where none is, and says what it did: "put", "same"
// (already there with these bytes), or "would put" on a dry run.
func put(ctx context.Context, s3c Uploader, a asset, dryRun bool) (string, error) {
	sum := base64.StdEncoding.EncodeToString(a.sum[:])
	head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(a.key), ChecksumMode: s3types.ChecksumModeEnabled})
	switch {
	case err == nil:
		same, err := sameBytes(ctx, s3c, a, head, sum)
		if err != nil {
			return "", err
		}
		if same {
			return "same", nil
		}
		return "", fmt.Errorf("s3://%s/%s is already published with other bytes: a version is published once; publish a new --version", a.bucket, a.key)
	case !notFound(err):
		return "", fmt.Errorf("head s3://%s/%s: %w", a.bucket, a.key, err)
	case dryRun:
		return "would put", nil
	}
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(a.key), Body: strings.NewReader(string(a.body)),
		ContentLength: aws.Int64(int64(len(a.body))), ChecksumSHA256: aws.String(sum), IfNoneMatch: aws.String("*")})
	if err != nil {
		return "", fmt.Errorf("put s3://%s/%s: %w", a.bucket, a.key, err)
	}
	return "put", nil
}

// notFound is HeadObject's answer for a missing key (a bare 404, no code
// in the body).
func notFound(err error) bool {
	var nf *s3types.NotFound
	var ae smithy.APIError
	return errors.As(err, &nf) || (errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey"))
}

// sameBytes says whether the object there holds the asset's bytes: by its
// full-object SHA-256 when S3 keeps one, else (written by another tool,
// in parts, with another checksum) by reading it back.
func sameBytes(ctx context.Context, s3c Uploader, a asset, head *s3.HeadObjectOutput, sum string) (bool, error) {
	if c := aws.ToString(head.ChecksumSHA256); c != "" && head.ChecksumType != s3types.ChecksumTypeComposite && !strings.Contains(c, "-") {
		return c == sum, nil
	}
	if aws.ToInt64(head.ContentLength) != int64(len(a.body)) {
		return false, nil
	}
	got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(a.key)})
	if err != nil {
		return false, fmt.Errorf("read back s3://%s/%s: %w", a.bucket, a.key, err)
	}
	defer got.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(got.Body, int64(len(a.body))+1)); err != nil {
		return false, fmt.Errorf("read back s3://%s/%s: %w", a.bucket, a.key, err)
	}
	return bytes.Equal(h.Sum(nil), a.sum[:]), nil
}

// memberTemplate checks that a template is the organization's member
// template: JSON, its functions' code read from the asset bucket under the
// AssetKeyPrefix parameter, one key per asset, and no CDK metadata (which
// a StackSet template must not carry).
func memberTemplate(b []byte) error {
	var t struct {
		Parameters map[string]any            `json:"Parameters"`
		Resources  map[string]map[string]any `json:"Resources"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return fmt.Errorf("not a template: %w", err)
	}
	if _, ok := t.Parameters[assetKeyPrefixParam]; !ok {
		return fmt.Errorf("no %s parameter: not the member template", assetKeyPrefixParam)
	}
	for _, name := range contract.AssetObjects {
		if !bytes.Contains(b, []byte(`${`+assetKeyPrefixParam+`}`+name)) {
			return fmt.Errorf("no function reads %s: not the member template of this version", name)
		}
	}
	for id, r := range t.Resources {
		if r["Type"] == "AWS::CDK::Metadata" {
			return fmt.Errorf("resource %s is CDK metadata: not the member template", id)
		}
	}
	return nil
}

// assetKeyPrefixParam is the member template's parameter for the version's
// key prefix (infra.ParamAssetKeyPrefix).
const assetKeyPrefixParam = "AssetKeyPrefix"
