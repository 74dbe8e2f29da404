package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
)

// buckets is S3 as publish sees it: objects by bucket and key, a write
// refused where an object exists (If-None-Match: *) or where the body does
// not match its SHA-256, and the buckets that exist.
type buckets struct {
	mu      sync.Mutex
	exist   map[string]bool
	objects map[string][]byte
	// foreign objects were written by another tool: S3 keeps no SHA-256
	// of them, only a multipart ETag.
	foreign map[string]bool
	puts    int
}

func (b *buckets) HeadBucket(_ context.Context, in *s3.HeadBucketInput, _ ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.exist[aws.ToString(in.Bucket)] {
		return nil, &s3types.NotFound{}
	}
	return &s3.HeadBucketOutput{}, nil
}

func (b *buckets) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	body, ok := b.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	if !ok {
		return nil, &s3types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(body))}, nil
}

func (b *buckets) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	body, ok := b.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	if !ok {
		return nil, &s3types.NotFound{}
	}
	if b.foreign[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] {
		return &s3.HeadObjectOutput{ContentLength: aws.Int64(int64(len(body))), ETag: aws.String(`"0123456789abcdef0123456789abcdef-1"`)}, nil
	}
	sum := sha256.Sum256(body)
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(int64(len(body))), ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum[:]))}, nil
}

func (b *buckets) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.exist[aws.ToString(in.Bucket)] {
		return nil, fake.APIError("NoSuchBucket", "The specified bucket does not exist")
	}
	k := aws.ToString(in.Bucket) + "/" + aws.ToString(in.Key)
	if _, ok := b.objects[k]; ok && aws.ToString(in.IfNoneMatch) == "*" {
		return nil, fake.APIError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
	}
	body, _ := io.ReadAll(in.Body)
	sum := sha256.Sum256(body)
	if aws.ToString(in.ChecksumSHA256) != base64.StdEncoding.EncodeToString(sum[:]) {
		return nil, fake.APIError("BadDigest", "The SHA256 you specified did not match the calculated checksum.")
	}
	b.objects[k] = body
	b.puts++
	return &s3.PutObjectOutput{}, nil
}

// release writes what make build and make synth-org would.
func release(t *testing.T, code string) (dist, tpl string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range contract.AssetObjects {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name+" "+code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tpl = filepath.Join(dir, "member.json")
	member := `{"Parameters":{"AssetKeyPrefix":{"Type":"String"}},"Resources":{` +
		`"R":{"Type":"AWS::Lambda::Function","Properties":{"Code":{"S3Key":{"Fn::Sub":"${AssetKeyPrefix}remediate.zip"}}}},` +
		`"S":{"Type":"AWS::Lambda::Function","Properties":{"Code":{"S3Key":{"Fn::Sub":"${AssetKeyPrefix}sweep.zip"}}}}}}`
	if err := os.WriteFile(tpl, []byte(member), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, tpl
}

func runPublish(t *testing.T, s3c *buckets, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	base := runCLIDeps(t, fake.New(), config.Default())
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, aws: func(ctx context.Context) (*deps, error) {
		d, err := base(ctx)
		if err == nil {
			d.UploaderFor = func(string) Uploader { return s3c }
		}
		return d, err
	}}
	code := runWith(context.Background(), append([]string{"publish"}, args...), c)
	return runResult{code, out.String(), errb.String()}
}

// A version goes to every region's asset bucket (the functions' code) and
// the home region's (the member template too), under bucketguard/V/; run
// again, it writes nothing; other bytes under the same version stop the
// run and overwrite nothing; a dry run writes nothing.
func TestPublishWritesAVersionOnce(t *testing.T) {
	acct := fake.Account
	s3c := &buckets{objects: map[string][]byte{}, exist: map[string]bool{
		contract.AssetBucketName(acct, "eu-west-1"): true, contract.AssetBucketName(acct, "us-east-1"): true}}
	dist, tpl := release(t, "v1")
	args := []string{"--region", "eu-west-1,us-east-1", "--version", "1.4.0", "--dist", dist, "--template", tpl}

	if r := runPublish(t, s3c, append(args, "--dry-run")...); r.code != 0 || s3c.puts != 0 || strings.Count(r.stdout, "would put") != 5 {
		t.Fatalf("dry run: exit %d, %d puts\n%s%s", r.code, s3c.puts, r.stdout, r.stderr)
	}
	r := runPublish(t, s3c, args...)
	if r.code != 0 || s3c.puts != 5 {
		t.Fatalf("exit %d, %d puts\n%s%s", r.code, s3c.puts, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"eu-west-1/bucketguard/1.4.0/remediate.zip", "eu-west-1/bucketguard/1.4.0/sweep.zip",
		"us-east-1/bucketguard/1.4.0/remediate.zip", "us-east-1/bucketguard/1.4.0/sweep.zip",
		"eu-west-1/bucketguard/1.4.0/" + contract.MemberTemplateObject,
	} {
		if _, ok := s3c.objects[contract.AssetBucketPrefix+"-"+acct+"-"+want]; !ok {
			t.Errorf("not published: %s", want)
		}
	}
	if !strings.Contains(r.stdout, "AssetKeyPrefix=bucketguard/1.4.0/") {
		t.Errorf("output does not name the parameter:\n%s", r.stdout)
	}

	if r := runPublish(t, s3c, args...); r.code != 0 || s3c.puts != 5 || strings.Count(r.stdout, "same") != 5 {
		t.Errorf("again: exit %d, %d puts\n%s%s", r.code, s3c.puts, r.stdout, r.stderr)
	}
	dist2, _ := release(t, "v2")
	r = runPublish(t, s3c, "--region", "eu-west-1,us-east-1", "--version", "1.4.0", "--dist", dist2, "--template", tpl)
	if r.code == 0 || !strings.Contains(r.stderr, "already published with other bytes") || s3c.puts != 5 {
		t.Errorf("other bytes: exit %d, %d puts\n%s", r.code, s3c.puts, r.stderr)
	}
	if got := string(s3c.objects[contract.AssetBucketName(acct, "eu-west-1")+"/bucketguard/1.4.0/remediate.zip"]); got != "remediate.zip v1" {
		t.Errorf("overwritten: %q", got)
	}
}

// Bad usage fails before any AWS call, naming what is wrong; a template
// that is not the member template is refused.
func TestPublishUsage(t *testing.T) {
	dist, tpl := release(t, "v1")
	perAccount := filepath.Join(t.TempDir(), "stack.json")
	if err := os.WriteFile(perAccount, []byte(`{"Parameters":{"AssetKeyPrefix":{}},"Resources":{"CDKMetadata":{"Type":"AWS::CDK::Metadata"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--version", "1.4.0"}, "--region is required"},
		{[]string{"--region", "eu-west-1"}, "--version"},
		{[]string{"--region", "eu-west-1", "--version", "../x"}, "is not a version"},
		{[]string{"--region", "eu-west-9x", "--version", "1"}, "not a region name"},
		{[]string{"--region", "eu-west-1", "--home", "us-east-1", "--version", "1"}, "not one of the --region list"},
		{[]string{"--region", "eu-west-1", "--version", "1", "--dist", t.TempDir(), "--template", tpl}, "make build"},
		{[]string{"--region", "eu-west-1", "--version", "1", "--dist", dist, "--template", filepath.Join(dist, "remediate.zip")}, "not a template"},
		{[]string{"--region", "eu-west-1", "--version", "1", "--dist", dist, "--template", "../../infra/testdata/does-not-exist.json"}, "make synth-org"},
		{[]string{"--region", "eu-west-1", "--version", "1", "--dist", dist, "--template", perAccount}, "not the member template"},
	} {
		var out, errb bytes.Buffer
		c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, aws: runCLIDeps(t, nil, config.Default())}
		if code := runWith(context.Background(), append([]string{"publish"}, tt.args...), c); code != exitInvalid || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tt.args, code, errb.String(), tt.want)
		}
	}
}

// A missing asset bucket stops the run before any write, dry run or not;
// an object another tool wrote in parts (no SHA-256 kept) with the same
// bytes is recognised by reading it back, and with other bytes stops the
// run.
func TestPublishChecksBucketsAndForeignObjects(t *testing.T) {
	acct := fake.Account
	eu, us := contract.AssetBucketName(acct, "eu-west-1"), contract.AssetBucketName(acct, "us-east-1")
	s3c := &buckets{objects: map[string][]byte{}, foreign: map[string]bool{}, exist: map[string]bool{eu: true}}
	dist, tpl := release(t, "v1")
	args := []string{"--region", "eu-west-1,us-east-1", "--version", "1.4.0", "--dist", dist, "--template", tpl}
	for _, dry := range []bool{true, false} {
		a := args
		if dry {
			a = append(a, "--dry-run")
		}
		if r := runPublish(t, s3c, a...); r.code == 0 || !strings.Contains(r.stderr, us) || s3c.puts != 0 {
			t.Errorf("dry run %v, us-east-1's bucket missing: exit %d, %d puts\n%s", dry, r.code, s3c.puts, r.stderr)
		}
	}
	s3c.exist[us] = true
	key := eu + "/bucketguard/1.4.0/remediate.zip"
	s3c.objects[key], s3c.foreign[key] = []byte("remediate.zip v1"), true
	r := runPublish(t, s3c, args...)
	if r.code != 0 || s3c.puts != 4 || !strings.Contains(r.stdout, "same       s3://"+eu+"/bucketguard/1.4.0/remediate.zip") {
		t.Errorf("same bytes in parts: exit %d, %d puts\n%s%s", r.code, s3c.puts, r.stdout, r.stderr)
	}
	key = us + "/bucketguard/1.5.0/sweep.zip"
	s3c.objects[key], s3c.foreign[key] = []byte("sweep.zip vX"), true
	r = runPublish(t, s3c, "--region", "eu-west-1,us-east-1", "--version", "1.5.0", "--dist", dist, "--template", tpl)
	if r.code == 0 || !strings.Contains(r.stderr, "already published with other bytes") {
		t.Errorf("other bytes in parts: exit %d\n%s", r.code, r.stderr)
	}
}
