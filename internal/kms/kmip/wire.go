package kmip

import "github.com/strongroom-dev/strongroom/internal/kms/kmip/ttlv"

// KMIP tags, enumerations and values used here (KMIP 1.4 §9.1.3).
const (
	tagAttribute            ttlv.Tag = 0x420008
	tagAttributeName        ttlv.Tag = 0x42000A
	tagAttributeValue       ttlv.Tag = 0x42000B
	tagBatchCount           ttlv.Tag = 0x42000D
	tagBatchItem            ttlv.Tag = 0x42000F
	tagBlockCipherMode      ttlv.Tag = 0x420011
	tagCryptoAlgorithm      ttlv.Tag = 0x420028
	tagCryptoLength         ttlv.Tag = 0x42002A
	tagCryptoParameters     ttlv.Tag = 0x42002B
	tagCryptoUsageMask      ttlv.Tag = 0x42002C
	tagIVCounterNonce       ttlv.Tag = 0x42003D
	tagName                 ttlv.Tag = 0x420053
	tagNameType             ttlv.Tag = 0x420054
	tagNameValue            ttlv.Tag = 0x420055
	tagObjectGroup          ttlv.Tag = 0x420056
	tagObjectType           ttlv.Tag = 0x420057
	tagOperation            ttlv.Tag = 0x42005C
	tagProtocolVersion      ttlv.Tag = 0x420069
	tagProtocolVersionMajor ttlv.Tag = 0x42006A
	tagProtocolVersionMinor ttlv.Tag = 0x42006B
	tagRequestHeader        ttlv.Tag = 0x420077
	tagRequestMessage       ttlv.Tag = 0x420078
	tagRequestPayload       ttlv.Tag = 0x420079
	tagResponseHeader       ttlv.Tag = 0x42007A
	tagResponseMessage      ttlv.Tag = 0x42007B
	tagResponsePayload      ttlv.Tag = 0x42007C
	tagResultMessage        ttlv.Tag = 0x42007D
	tagResultReason         ttlv.Tag = 0x42007E
	tagResultStatus         ttlv.Tag = 0x42007F
	tagRevocationReason     ttlv.Tag = 0x420081
	tagRevocationReasonCode ttlv.Tag = 0x420082
	tagTemplateAttribute    ttlv.Tag = 0x420091
	tagUniqueIdentifier     ttlv.Tag = 0x420094
	tagData                 ttlv.Tag = 0x4200C2
	tagTagLength            ttlv.Tag = 0x4200CE
	tagAEADAdditionalData   ttlv.Tag = 0x4200FE
	tagAEADTag              ttlv.Tag = 0x4200FF
	tagState                ttlv.Tag = 0x42008D
	tagInitialDate          ttlv.Tag = 0x420039
)

// Operations.
const (
	opCreate        uint32 = 0x01
	opLocate        uint32 = 0x08
	opGetAttributes uint32 = 0x0B
	opActivate      uint32 = 0x12
	opRevoke        uint32 = 0x13
	opDestroy       uint32 = 0x14
	opEncrypt       uint32 = 0x1F
	opDecrypt       uint32 = 0x20
)

// Enumeration values.
const (
	objectTypeSymmetricKey uint32 = 0x02
	algorithmAES           uint32 = 0x03
	modeGCM                uint32 = 0x09
	nameTypeText           uint32 = 0x01
	usageEncrypt           int32  = 0x04
	usageDecrypt           int32  = 0x08
	revokeCessation        uint32 = 0x06
	resultSuccess                 = 0
	stateActive                   = 2
)

// Result reasons that change what an error means to strongroom.
const (
	reasonItemNotFound     = 0x01
	reasonInvalidField     = 0x07
	reasonCryptoFailure    = 0x0A
	reasonPermissionDenied = 0x0C
	reasonObjectDestroyed  = 0x36
	reasonObjectNotFound   = 0x37
	reasonWrongState       = 0x43
	reasonGeneralFailure   = 0x100
)

// Attribute names (KMIP 1.x spells attributes by name).
const (
	attrName        = "Name"
	attrState       = "State"
	attrInitialDate = "Initial Date"
	attrObjectGroup = "Object Group"
	attrAlgorithm   = "Cryptographic Algorithm"
	attrLength      = "Cryptographic Length"
	attrUsageMask   = "Cryptographic Usage Mask"
)
