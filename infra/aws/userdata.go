package aws

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/footprint-dev/footprint/infra/machine"
)

// MaxUserData is the most user data EC2 takes, in bytes, counted as sent
// before base64 (RunInstances' UserData).
const MaxUserData = 16384

// encodeUserData is a node's user-data as EC2 is given it: gzip-compressed,
// since every profile's user-data is over EC2's limit as text and
// cloud-init decompresses gzip itself, then base64-encoded, which is how the
// provider's userDataBase64 passes binary data through unchanged. A node
// still over the limit fails here, before any resource exists.
func encodeUserData(s machine.Spec) (string, error) {
	gz, err := gzipped(s.CloudInit.UserData)
	if err != nil {
		return "", fmt.Errorf("%s: node %s: compressing its user-data: %w", key(""), s.Node, err)
	}
	if len(gz) > MaxUserData {
		return "", fmt.Errorf("%s: node %s: its user-data is %d bytes gzip-compressed (%d as text), over EC2's limit of %d",
			key(""), s.Node, len(gz), len(s.CloudInit.UserData), MaxUserData)
	}
	return base64.StdEncoding.EncodeToString(gz), nil
}

// gzipped is text at gzip's best compression. The header holds no name and
// no time, so the same user-data always gives the same bytes and an
// unchanged node is never replaced for it.
func gzipped(text string) ([]byte, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, text); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
