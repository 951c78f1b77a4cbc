package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkKeyFile refuses, before anything is created, a --ssh-key path that
// is taken: a file there would keep its own mode with a private key in it,
// and a symlink would carry the key to wherever it points.
func checkKeyFile(path string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return keyFileTaken(path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--ssh-key %s: %w", path, err)
	}
	return nil
}

// writeKeyFile creates path with the key, mode 0600; O_EXCL refuses
// whatever appeared there since checkKeyFile, a dangling symlink too, and
// O_NOFOLLOW says so even where O_EXCL is not honoured.
func writeKeyFile(path string, key []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ELOOP) {
		return keyFileTaken(path)
	}
	if err != nil {
		return fmt.Errorf("--ssh-key %s: %w", path, err)
	}
	_, err = f.Write(key)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path) // ours: created above, and half a key is no key
		return fmt.Errorf("--ssh-key %s: %w", path, err)
	}
	return nil
}

func keyFileTaken(path string) error {
	return fmt.Errorf("--ssh-key %s: something is there already; the key goes only into a new file (remove it or name another)", path)
}
