package oai

// SchemaFile is the name under which the handler serves the XML Schema of
// the khantara format and of the khantara:repository description: a GET
// of <baseURL>/factsheet-1.xsd. The node must route that path to the
// handler too (mount it at "/oai/" as well as "/oai").
const SchemaFile = "factsheet-1.xsd"

// Schema returns the XML Schema of namespace urn:khantara:factsheet:1:
// the fact sheet (<factsheet>), the experience record (<experience>) and
// the repository description.
func Schema() string { return factSheetXSD }

// factSheetXSD follows protocol.FactSheet, protocol.Experience and
// PROTOCOL.md field by field.
// Vocabulary fields are plain strings: the protocol's vocabularies only
// grow, and an old schema must not reject a newer node's records.
const factSheetXSD = `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:k="urn:khantara:factsheet:1"
           targetNamespace="urn:khantara:factsheet:1"
           elementFormDefault="qualified"
           attributeFormDefault="unqualified">

  <xs:annotation>
    <xs:documentation>
      Khantara practice fact sheet, protocol v1, and experience record
      (PROTOCOL.md section 13), as served by the OAI-PMH metadata format
      "khantara". Each element carries the JSON member of the same name
      (see PROTOCOL.md); arrays are a wrapper element with one child per
      value. The repository element describes a Khantara node in OAI-PMH
      Identify.
    </xs:documentation>
  </xs:annotation>

  <xs:element name="factsheet" type="k:factsheetType"/>
  <xs:element name="experience" type="k:experienceType"/>
  <xs:element name="repository" type="k:repositoryType"/>

  <xs:complexType name="factsheetType">
    <xs:sequence>
      <xs:element name="id" type="xs:string"/>
      <xs:element name="title" type="xs:string"/>
      <xs:element name="language" type="xs:string"/>
      <xs:element name="summary" type="xs:string" minOccurs="0"/>
      <xs:element name="translations" minOccurs="0">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="translation" type="k:translationType" maxOccurs="unbounded"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
      <xs:element name="country" type="xs:string"/>
      <xs:element name="region" type="xs:string" minOccurs="0"/>
      <xs:element name="city" type="xs:string" minOccurs="0"/>
      <xs:element name="location" type="k:locationType" minOccurs="0"/>
      <xs:element name="organiser" type="xs:string"/>
      <xs:element name="start_year" type="xs:int"/>
      <xs:element name="end_year" type="xs:int" minOccurs="0"/>
      <xs:element name="ongoing" type="xs:boolean" minOccurs="0"/>
      <xs:element name="duration_years" type="xs:decimal" minOccurs="0"/>
      <xs:element name="context" type="xs:string" minOccurs="0"/>
      <xs:element name="challenges" type="xs:string" minOccurs="0"/>
      <xs:element name="objective" type="xs:string"/>
      <xs:element name="dimensions" type="k:dimensionsType"/>
      <xs:element name="issues" type="k:issuesType" minOccurs="0"/>
      <xs:element name="issues_text" type="xs:string" minOccurs="0"/>
      <xs:element name="target_groups" type="k:targetGroupsType" minOccurs="0"/>
      <xs:element name="target_groups_text" type="xs:string" minOccurs="0"/>
      <xs:element name="assistance" type="xs:string" minOccurs="0"/>
      <xs:element name="activities" type="xs:string" minOccurs="0"/>
      <xs:element name="staff_training" type="xs:string" minOccurs="0"/>
      <xs:element name="funding" type="k:fundingType" minOccurs="0"/>
      <xs:element name="partners" type="k:partnersType" minOccurs="0"/>
      <xs:element name="beneficiaries" type="xs:long" minOccurs="0"/>
      <xs:element name="beneficiaries_text" type="xs:string" minOccurs="0"/>
      <xs:element name="achievement" type="xs:string" minOccurs="0"/>
      <xs:element name="outcomes" type="xs:string" minOccurs="0"/>
      <xs:element name="part_of_national_programme" type="xs:boolean" minOccurs="0"/>
      <xs:element name="transferability" type="k:transferabilityType" minOccurs="0"/>
      <xs:element name="evaluation" type="xs:string" minOccurs="0"/>
      <xs:element name="evaluation_text" type="xs:string" minOccurs="0"/>
      <xs:element name="other_information" type="xs:string" minOccurs="0"/>
      <xs:element name="contact" type="k:contactType" minOccurs="0"/>
      <xs:element name="links" type="k:linksType" minOccurs="0"/>
      <xs:element name="tags" type="k:tagsType" minOccurs="0"/>
    </xs:sequence>
    <xs:attribute name="publisher" type="xs:string" use="required"/>
    <xs:attribute name="signer" type="xs:string" use="required"/>
    <xs:attribute name="seq" type="xs:unsignedLong" use="required"/>
    <xs:attribute name="announced" type="xs:dateTime" use="required"/>
  </xs:complexType>

  <xs:complexType name="translationType">
    <xs:sequence>
      <xs:element name="title" type="xs:string"/>
      <xs:element name="summary" type="xs:string" minOccurs="0"/>
      <xs:element name="objective" type="xs:string" minOccurs="0"/>
    </xs:sequence>
    <xs:attribute name="language" type="xs:string" use="required"/>
  </xs:complexType>

  <xs:complexType name="dimensionsType">
    <xs:sequence>
      <xs:element name="dimension" type="xs:string" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="issuesType">
    <xs:sequence>
      <xs:element name="issue" type="xs:string" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="targetGroupsType">
    <xs:sequence>
      <xs:element name="target_group" type="xs:string" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="locationType">
    <xs:sequence>
      <xs:element name="lat" type="xs:decimal" minOccurs="0"/>
      <xs:element name="lon" type="xs:decimal" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="fundingType">
    <xs:sequence>
      <xs:element name="amount_eur" type="xs:long" minOccurs="0"/>
      <xs:element name="period_years" type="xs:decimal" minOccurs="0"/>
      <xs:element name="sources" minOccurs="0">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="source" type="xs:string" maxOccurs="unbounded"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
      <xs:element name="notes" type="xs:string" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="partnersType">
    <xs:sequence>
      <xs:element name="types" minOccurs="0">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="type" type="xs:string" maxOccurs="unbounded"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
      <xs:element name="names" minOccurs="0">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="name" type="xs:string" maxOccurs="unbounded"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
      <xs:element name="description" type="xs:string" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="transferabilityType">
    <xs:sequence>
      <xs:element name="replicable" type="xs:boolean" minOccurs="0"/>
      <xs:element name="lessons" type="xs:string" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="contactType">
    <xs:sequence>
      <xs:element name="organisation" type="xs:string" minOccurs="0"/>
      <xs:element name="unit" type="xs:string" minOccurs="0"/>
      <xs:element name="email" type="xs:string" minOccurs="0"/>
      <xs:element name="website" type="xs:anyURI" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="linksType">
    <xs:sequence>
      <xs:element name="link" maxOccurs="unbounded">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="title" type="xs:string" minOccurs="0"/>
            <xs:element name="url" type="xs:anyURI"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="tagsType">
    <xs:sequence>
      <xs:element name="tag" type="xs:string" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="experienceType">
    <xs:sequence>
      <xs:element name="type" type="xs:string"/>
      <xs:element name="id" type="xs:string" minOccurs="0"/>
      <xs:element name="about" type="k:aboutType"/>
      <xs:element name="language" type="xs:string"/>
      <xs:element name="title" type="xs:string" minOccurs="0"/>
      <xs:element name="text" type="xs:string" minOccurs="0"/>
      <xs:element name="in_reply_to" type="k:refType" minOccurs="0"/>
      <xs:element name="country" type="xs:string" minOccurs="0"/>
      <xs:element name="region" type="xs:string" minOccurs="0"/>
      <xs:element name="city" type="xs:string" minOccurs="0"/>
      <xs:element name="start_year" type="xs:int" minOccurs="0"/>
      <xs:element name="end_year" type="xs:int" minOccurs="0"/>
      <xs:element name="ongoing" type="xs:boolean" minOccurs="0"/>
      <xs:element name="changes" type="xs:string" minOccurs="0"/>
      <xs:element name="achievement" type="xs:string" minOccurs="0"/>
      <xs:element name="evaluation" type="xs:string" minOccurs="0"/>
      <xs:element name="outcomes" type="xs:string" minOccurs="0"/>
      <xs:element name="practice" type="k:refType" minOccurs="0"/>
      <xs:element name="worked" type="xs:string" minOccurs="0"/>
      <xs:element name="did_not_work" type="xs:string" minOccurs="0"/>
      <xs:element name="for_whom" type="xs:string" minOccurs="0"/>
      <xs:element name="translations" minOccurs="0">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="translation" type="k:experienceTranslationType" maxOccurs="unbounded"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
    </xs:sequence>
    <xs:attribute name="publisher" type="xs:string" use="required"/>
    <xs:attribute name="signer" type="xs:string" use="required"/>
    <xs:attribute name="seq" type="xs:unsignedLong" use="required"/>
    <xs:attribute name="announced" type="xs:dateTime" use="required"/>
    <xs:attribute name="slot" type="xs:string" use="required"/>
  </xs:complexType>

  <xs:complexType name="aboutType">
    <xs:sequence>
      <xs:element name="publisher" type="xs:string"/>
      <xs:element name="id" type="xs:string"/>
      <xs:element name="seq" type="xs:unsignedLong" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="refType">
    <xs:sequence>
      <xs:element name="publisher" type="xs:string"/>
      <xs:element name="id" type="xs:string"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="experienceTranslationType">
    <xs:sequence>
      <xs:element name="title" type="xs:string" minOccurs="0"/>
      <xs:element name="text" type="xs:string" minOccurs="0"/>
    </xs:sequence>
    <xs:attribute name="language" type="xs:string" use="required"/>
  </xs:complexType>

  <xs:complexType name="repositoryType">
    <xs:sequence>
      <xs:element name="node" type="xs:string" minOccurs="0"/>
      <xs:element name="identifierFormat" type="xs:string"/>
    </xs:sequence>
  </xs:complexType>

</xs:schema>
`
