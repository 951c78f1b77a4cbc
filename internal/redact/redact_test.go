package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestURLKeepsNoCredential(t *testing.T) {
	for raw, want := range map[string]string{
		"https://user:pass@images.example/noble.img": "https://user:REDACTED@images.example/noble.img",
		"https://ghp_t0k3n@git.example/raw/disk.img": "https://REDACTED@git.example/raw/disk.img",
		"https://bucket.s3.amazonaws.com/disk.img?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261201&X-Amz-Date=20261201T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=deadbeef": "https://bucket.s3.amazonaws.com/disk.img?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Date=20261201T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED",
		"https://acct.blob.core.windows.net/c/disk.img?sv=2022-11-02&se=2026-12-31&sp=r&sig=c2VjcmV0":                                                                                                                 "https://acct.blob.core.windows.net/c/disk.img?sv=2022-11-02&se=2026-12-31&sp=r&sig=REDACTED",
		"https://dl.example/disk.img?token=abc&private_token=def&version=2":                                                                                                                                           "https://dl.example/disk.img?token=REDACTED&private_token=REDACTED&version=2",
		"https://x.example/d.img?X-Amz-Security-Token=FQo&Signature=s&Key-Pair-Id=K1":                                                                                                                                 "https://x.example/d.img?X-Amz-Security-Token=REDACTED&Signature=REDACTED&Key-Pair-Id=K1",
		// Nothing to hide: as written, not re-encoded.
		"https://cloud-images.ubuntu.com/minimal/releases/noble/release/ubuntu-24.04-minimal-cloudimg-amd64.img": "https://cloud-images.ubuntu.com/minimal/releases/noble/release/ubuntu-24.04-minimal-cloudimg-amd64.img",
		"https://x.example/a%20b.img?v=1": "https://x.example/a%20b.img?v=1",
		"/var/lib/images/disk.qcow2":      "/var/lib/images/disk.qcow2",
		// Unreadable: only the scheme is safe to show.
		"https://us er:p@ss@host%zz/x": "https://REDACTED",
	} {
		if got := URL(raw); got != want {
			t.Errorf("URL(%q)\n = %q\nwant %q", raw, got, want)
		}
	}
}

func TestTextAndErrorRedactEveryURL(t *testing.T) {
	msg := `image https://u:hunter2@h.example/d.img cannot be fetched: GET "https://u:***@h.example/d.img?sig=s3cr3t" giving up`
	got := Text(msg)
	for _, secret := range []string{"hunter2", "s3cr3t"} {
		if strings.Contains(got, secret) {
			t.Errorf("Text kept %q: %s", secret, got)
		}
	}
	if !strings.Contains(got, "https://u:REDACTED@h.example/d.img cannot be fetched") {
		t.Errorf("Text %q lost the URL's place", got)
	}
	err := Error(fmt.Errorf("GET https://h.example/x?token=t0k: %w", fs.ErrNotExist))
	if strings.Contains(err.Error(), "t0k") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Error: %q, is ErrNotExist %v", err, errors.Is(err, fs.ErrNotExist))
	}
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}
