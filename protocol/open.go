package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/libp2p/go-libp2p/core/crypto"
	cryptopb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	recordpb "github.com/libp2p/go-libp2p/core/record/pb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Open checks untrusted envelope bytes and returns the announcement they
// carry. In order: size limit, envelope decoding, payload type, key type,
// payload size, signature over EnvelopeDomain, payload decoding (strict:
// unknown or duplicate members are errors), publisher, schema. The
// publisher step: a key publisher must be the signer; an organisation's
// signer is only recorded (Signed.Signer), since its authority needs the
// chain (Chain.Authorise); a genesis operation must leave its publisher
// out, gets OrgID of its payload and must be signed by its keys[0].
// Errors wrap one of the package's sentinels.
//
// Every step works on one decoding: the protobuf is decoded once, under
// the stricter rules of decodeEnvelope (no repeated fields), the signature
// is verified once and the JSON decoded once. An envelope in the canonical encoding, as every
// writer sends it, is kept as received: Open does not copy data, so the
// caller must not modify it afterwards. Any other encoding is re-encoded
// canonically.
func Open(data []byte) (*Signed, error) {
	if len(data) > MaxEnvelopeSize {
		return nil, fmt.Errorf("%w: envelope is %d bytes, limit %d", ErrTooLarge, len(data), MaxEnvelopeSize)
	}
	// Steps 2-5 (envelopewire.go): the cheap checks on the unverified
	// envelope first, so a hostile peer cannot make us verify a foreign
	// key type or decode a foreign payload.
	msg, key, err := decodeEnvelope(data)
	if err != nil {
		return nil, err
	}
	if ok, err := verify(key, msg.PayloadType, msg.Payload, msg.Signature); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	} else if !ok {
		return nil, ErrBadSignature
	}
	ann, err := DecodePayload(msg.Payload)
	if err != nil {
		return nil, err
	}
	signer, err := peer.IDFromPublicKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: signer key: %v", ErrMalformed, err)
	}
	if err := openPublisher(ann, msg.Payload, signer); err != nil {
		return nil, err
	}
	if err := ann.Validate(); err != nil {
		return nil, err
	}
	env := data
	if !isCanonical(data, msg) {
		if env, err = canonicalEnvelope(msg); err != nil {
			return nil, fmt.Errorf("%w: re-encode envelope: %v", ErrMalformed, err)
		}
	}
	return &Signed{ann: ann, envelope: env, hash: sha256.Sum256(msg.Payload), signer: signer}, nil
}

// signedBytes appends to b what an envelope's signature covers
// (PROTOCOL.md section 3, libp2p's signed-envelope RFC 0002): the domain,
// the payload type and the payload, each preceded by its length as an
// unsigned varint.
func signedBytes(b, payloadType, payload []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(EnvelopeDomain)))
	b = append(b, EnvelopeDomain...)
	b = binary.AppendUvarint(b, uint64(len(payloadType)))
	b = append(b, payloadType...)
	b = binary.AppendUvarint(b, uint64(len(payload)))
	return append(b, payload...)
}

// verifyBufs recycles the buffers signedBytes fills for Verify.
var verifyBufs = sync.Pool{New: func() any { return new([]byte) }}

// verify checks sig over payloadType and payload in EnvelopeDomain.
func verify(key crypto.PubKey, payloadType, payload, sig []byte) (bool, error) {
	buf := verifyBufs.Get().(*[]byte)
	defer verifyBufs.Put(buf)
	*buf = signedBytes((*buf)[:0], payloadType, payload)
	return key.Verify(*buf, sig)
}

// The envelope's protobuf field numbers (go-libp2p's record/pb) and the
// public key's (core/crypto/pb).
const (
	fieldPublicKey   protowire.Number = 1
	fieldPayloadType protowire.Number = 2
	fieldPayload     protowire.Number = 3
	fieldSignature   protowire.Number = 5
	fieldKeyType     protowire.Number = 1
	fieldKeyData     protowire.Number = 2
)

// isCanonical reports whether data, which decoded as msg (an Ed25519
// envelope), is the encoding go-libp2p writes: the four fields in order,
// each once, with minimal lengths and nothing else. It only compares
// bytes; nothing is encoded.
func isCanonical(data []byte, msg *recordpb.Envelope) bool {
	var key [3]byte
	k := protowire.AppendTag(key[:0], fieldKeyType, protowire.VarintType)
	k = protowire.AppendVarint(k, uint64(cryptopb.KeyType_Ed25519))
	k = protowire.AppendTag(k, fieldKeyData, protowire.BytesType)
	rest := data
	// field consumes one length-delimited field numbered num whose value
	// must be want; with a prefix (the public key's type and data tag),
	// the value is prefix, a minimal length, then want.
	field := func(num protowire.Number, prefix, want []byte) bool {
		n, typ, l := protowire.ConsumeTag(rest)
		if l != 1 || n != num || typ != protowire.BytesType {
			return false
		}
		rest = rest[l:]
		v, l := protowire.ConsumeBytes(rest)
		if l < 0 || l != protowire.SizeBytes(len(v)) {
			return false
		}
		rest = rest[l:]
		if prefix != nil {
			if !bytes.HasPrefix(v, prefix) {
				return false
			}
			v = v[len(prefix):]
			d, l := protowire.ConsumeBytes(v)
			if l != len(v) || l != protowire.SizeBytes(len(d)) {
				return false
			}
			v = d
		}
		return bytes.Equal(v, want)
	}
	return field(fieldPublicKey, k, msg.PublicKey.GetData()) &&
		field(fieldPayloadType, nil, msg.PayloadType) &&
		field(fieldPayload, nil, msg.Payload) &&
		field(fieldSignature, nil, msg.Signature) &&
		len(rest) == 0
}

// canonicalEnvelope encodes msg as go-libp2p writes it, without the
// unknown fields a relay may have added.
func canonicalEnvelope(msg *recordpb.Envelope) ([]byte, error) {
	return proto.Marshal(&recordpb.Envelope{
		PublicKey:   &cryptopb.PublicKey{Type: msg.PublicKey.GetType().Enum(), Data: msg.PublicKey.GetData()},
		PayloadType: msg.PayloadType,
		Payload:     msg.Payload,
		Signature:   msg.Signature,
	})
}

// DecodeStored decodes an envelope that this process verified earlier (read
// back from its own store) without verifying the signature again. Never use
// it on bytes from the network. The announcement keeps data.
func DecodeStored(data []byte) (*Signed, error) {
	var msg recordpb.Envelope
	if err := proto.Unmarshal(data, &msg); err != nil {
		return nil, fmt.Errorf("%w: stored envelope: %v", ErrMalformed, err)
	}
	ann, err := DecodePayload(msg.Payload)
	if err != nil {
		return nil, err
	}
	key, err := crypto.PublicKeyFromProto(msg.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: stored envelope: %v", ErrMalformed, err)
	}
	signer, err := peer.IDFromPublicKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: stored envelope: %v", ErrMalformed, err)
	}
	if ann.isGenesis() && ann.Publisher == "" {
		ann.Publisher = OrgID(msg.Payload)
	}
	return &Signed{ann: ann, envelope: data, hash: sha256.Sum256(msg.Payload), signer: signer}, nil
}
