package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SecretKeyEnv is the environment variable that holds the key (or keys)
// that seal tokens at rest; [ParseKeys] names it in its errors.
const SecretKeyEnv = "ROUTERLOGGER_SECRET_KEY"

// keySize is the AES-256 key length in bytes.
const keySize = 32

var (
	// ErrUnknownKey is returned, wrapped, when a stored secret was sealed
	// with a key that the [Keyring] does not hold.
	ErrUnknownKey = errors.New("sealed with a key not in " + SecretKeyEnv)
	// ErrDecrypt is returned, wrapped, when a stored secret does not open
	// with the key its key id names: it was altered or moved.
	ErrDecrypt = errors.New("cannot decrypt stored secret")
)

// Keyring holds the AES-256-GCM keys that seal tokens at rest. The first
// key seals; every key opens, so a key can be rotated by putting the new
// one first and keeping the old one after it until all rows were rewritten.
// A Keyring is safe for concurrent use.
type Keyring struct {
	current *sealKey
	byID    map[string]*sealKey
}

// sealKey is one key and its id.
type sealKey struct {
	id   string
	aead cipher.AEAD
}

// ParseKeys parses the value of ROUTERLOGGER_SECRET_KEY: one or more
// 32-byte keys separated by commas, each as 64 hex digits or as base64
// (standard or URL alphabet, padded or not). The first key seals. Errors
// name the variable and the key's position, never its value.
func ParseKeys(value string) (*Keyring, error) {
	if strings.TrimSpace(value) == "" {
		return nil, fmt.Errorf("%s is not set: want 32 random bytes as hex or base64"+
			" (for example from `openssl rand -hex 32`)", SecretKeyEnv)
	}

	var keys [][]byte
	for i, part := range strings.Split(value, ",") {
		k, err := decodeKey(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("%s: key %d: %w", SecretKeyEnv, i+1, err)
		}
		keys = append(keys, k)
	}
	return NewKeyring(keys...)
}

// decodeKey decodes one key from hex or base64.
func decodeKey(s string) ([]byte, error) {
	// A 32-byte key in base64 has 43 or 44 characters, never an even
	// number of hex digits only, so hex is tried first without ambiguity.
	if k, err := hex.DecodeString(s); err == nil {
		if len(k) != keySize {
			return nil, fmt.Errorf("hex decodes to %d bytes, want %d (%d hex digits)",
				len(k), keySize, 2*keySize)
		}
		return k, nil
	}

	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding} {
		k, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(k) != keySize {
			return nil, fmt.Errorf("base64 decodes to %d bytes, want %d", len(k), keySize)
		}
		return k, nil
	}
	return nil, fmt.Errorf("want %d bytes as %d hex digits or as base64", keySize, 2*keySize)
}

// NewKeyring returns a keyring of 32-byte keys; the first one seals.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("oauth: keyring needs at least one key")
	}

	kr := &Keyring{byID: make(map[string]*sealKey, len(keys))}
	for i, k := range keys {
		if len(k) != keySize {
			return nil, fmt.Errorf("oauth: key %d is %d bytes, want %d", i+1, len(k), keySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("oauth: key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("oauth: key %d: %w", i+1, err)
		}
		sk := &sealKey{id: keyID(k), aead: aead}
		kr.byID[sk.id] = sk
		if i == 0 {
			kr.current = sk
		}
	}
	return kr, nil
}

// keyID is a short fingerprint of a key: the first 4 bytes of an HMAC,
// which tells keys apart without revealing anything about them.
func keyID(k []byte) string {
	mac := hmac.New(sha256.New, k)
	mac.Write([]byte("routerlogger oauth key id"))
	return hex.EncodeToString(mac.Sum(nil)[:4])
}

// CurrentID returns the id of the key that seals, as stored in key_id.
func (kr *Keyring) CurrentID() string { return kr.current.id }

// seal encrypts plaintext with the current key; aad binds the result to
// its place (provider and column) so it cannot be moved elsewhere. The
// output is the nonce followed by the ciphertext.
func (kr *Keyring) seal(plaintext, aad string) []byte {
	aead := kr.current.aead
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("oauth: crypto/rand failed: " + err.Error()) // never fails on supported systems
	}
	return aead.Seal(nonce, nonce, []byte(plaintext), []byte(aad))
}

// open decrypts what seal returned under the key with id keyID.
func (kr *Keyring) open(keyID string, sealed []byte, aad string) (string, error) {
	k := kr.byID[keyID]
	if k == nil {
		return "", fmt.Errorf("key id %s: %w", keyID, ErrUnknownKey)
	}

	n := k.aead.NonceSize()
	if len(sealed) < n {
		return "", fmt.Errorf("%s: %w", aad, ErrDecrypt)
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return "", fmt.Errorf("%s: %w", aad, ErrDecrypt)
	}
	return string(plain), nil
}
