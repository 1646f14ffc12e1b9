package home

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteNew creates the file path with mode perm, which must not exist yet,
// writes data to it and syncs it to disk. When the file cannot be created
// the error is os.OpenFile's (errors.Is(err, fs.ErrExist) when it exists);
// when writing fails the file is removed and the error says so.
func WriteNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteAtomic replaces the file path with data (mode 0600): it writes a
// temporary file next to path, syncs it and renames it over path, so a
// reader sees the old content or the new, never a part.
func WriteAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
