#!/usr/bin/env python3
# gen_fixtures.py - writes the component XML fixtures of the CloudBlue connector tests (deploy/:
# the connection, one operation per action x object, one process per test case, in the export
# format of Boomi's CloudBlue Connect connector) and the Prism case table (prism-cases.txt).
# The generated files are checked in; run this again after changing the cases below.
import json
import os
import uuid
from xml.sax.saxutils import quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
DEPLOY = os.path.join(HERE, "deploy")
INPUTS = os.path.join(HERE, "inputs")
NS = uuid.UUID("6d0f3c2a-52a4-4c8e-9d59-3b0c6f7f0c1e")
CONN_ID = "cb000000-0000-4000-8000-000000000001"
CONN_NAME = "CloudBlue Connect"


def cid(name):
    return str(uuid.uuid5(NS, name))


def component(comp_id, name, ctype, sub_type, body, encrypted="<bns:encryptedValues/>", description=""):
    sub = f' subType="{sub_type}"' if sub_type else ""
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<bns:Component xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:bns="http://api.platform.boomi.com/"
    folderFullPath="miniatom/tests/connectors/cloudblue" componentId="{comp_id}" version="1" name={quoteattr(name)}
    type="{ctype}"{sub} createdDate="2026-11-23T00:00:00Z" createdBy="tests@miniatom" modifiedDate="2026-11-23T00:00:00Z"
    modifiedBy="tests@miniatom" deleted="false" currentVersion="true" folderName="cloudblue" folderId="tests">
  {encrypted}
  <bns:description>{description}</bns:description>
  <bns:object>
{body}
  </bns:object>
</bns:Component>
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def connection():
    body = """    <GenericConnectionConfig xmlns="">
      <field id="url" type="string" value="https://api.connect.cloudblue.com/public/v1"/>
      <field id="customAuthCredentials" type="password" value=""/>
    </GenericConnectionConfig>"""
    enc = """<bns:encryptedValues>
    <bns:encryptedValue path="//GenericConnectionConfig/field[@type='password']" isSet="true"/>
  </bns:encryptedValues>"""
    write(os.path.join(DEPLOY, "connection-cloudblue.xml"),
          component(CONN_ID, CONN_NAME, "connector-settings", "cloudblue", body, enc,
                    "The API token is not in the export: set connection.&lt;id&gt;.customAuthCredentials."))


LABELS = {
    "REQUEST": "Request", "PURCHASE_REQUEST": "Purchase Request", "CHANGE_REQUEST": "Change Request",
    "ADMIN_HOLD_REQUEST": "Admin Hold Request", "BILLING_REQUEST": "Billing Request", "ASSET": "Asset",
    "SUBSCRIPTION_REQUEST": "Subscription Request", "SUBSCRIPTION_ASSET": "Subscription Asset",
    "BILLING_REQUEST_ATTRIBUTE": "Billing Request Attribute", "TIER_ACCOUNT": "Tier Account",
    "TIER_ACCOUNT_VERSION": "Tier Account Version", "TIER_ACCOUNT_REQUEST": "Tier Account Request",
    "TIER_CONFIG_REQUEST": "Tier Config Request", "TIER_CONFIG": "Tier Config", "PRODUCT": "Product",
    "PRODUCT_TEMPLATE": "Product Template", "PRODUCT_ACTION": "Product Action", "PRODUCT_ITEM": "Product Item",
    "PRODUCT_PARAMETER": "Product Parameter", "PRODUCT_CONFIGURATION": "Product Configuration",
    "PRODUCT_ACTION_LINK": "Product Action Link", "USAGE_REPORT": "Usage Report", "USAGE_RECORD": "Usage Record",
    "USAGE_CHUNK": "Usage Chunk", "USAGE_RECONCILIATION": "Usage Reconciliation",
    "RECONCILIATION_PROCESSED_FILE": "Reconciliation Processed File",
    "RECONCILIATION_UPLOADED_FILE": "Reconciliation Uploaded File", "USAGE_AGGREGATE": "Usage Aggregate",
    "ASSET_USAGE_AGGREGATE": "Asset Usage Aggregate", "CASE": "Case", "CONVERSATION_MESSAGES": "Conversation Message",
}


def operation(name, obj, action, fields=(), filters=None, return_errors=False, sorts=()):
    """filters: None, or (logical operator, [(field, operator, input name), ...])"""
    query = action == "LIST"
    optype = "QUERY" if query else "EXECUTE"
    lines = [f'        <GenericOperationConfig customOperationType="{action}" objectTypeId="{obj}" '
             f'objectTypeName="{LABELS[obj]}" operationType="{optype}" requestProfileType="json" '
             f'responseProfileType="json">']
    for fid, ftype, value in fields:
        lines.append(f'          <field id="{fid}" type="{ftype}" value={quoteattr(value)}/>')
    if query:
        lines.append("          <Options>")
        lines.append("            <QueryOptions>")
        lines.append("              <Fields>")
        lines.append(f'                <ConnectorObject name="{LABELS[obj]}">')
        lines.append("                  <FieldList>")
        lines.append('                    <ConnectorField filterable="true" name="id" selectable="true" selected="true" sortable="true"/>')
        lines.append('                    <ConnectorField filterable="true" name="status" selectable="true" selected="true" sortable="true"/>')
        lines.append("                  </FieldList>")
        if filters:
            lines.append("                  <Filter>")
            lines.append("                    <ConnectorBaseFilter>")
            lines.append(f'                      <ConnectorFilterLogical logicalOperator="{filters[0]}">')
            for i, (field, op, iname) in enumerate(filters[1]):
                lines.append(f'                        <ConnectorFilterExpression expressionField="{field}" '
                             f'expressionOperator="{op}" key="{i + 1}" name="{iname}"/>')
            lines.append("                      </ConnectorFilterLogical>")
            lines.append("                    </ConnectorBaseFilter>")
            lines.append("                  </Filter>")
        else:
            lines.append("                  <Filter><ConnectorBaseFilter/></Filter>")
        if sorts:
            lines.append("                  <Sorts>")
            for field, order in sorts:
                lines.append(f'                    <Sort fieldName="{field}" sortOrder="{order}"/>')
            lines.append("                  </Sorts>")
        else:
            lines.append("                  <Sorts/>")
        lines.append("                </ConnectorObject>")
        lines.append("              </Fields>")
        if filters:
            lines.append("              <Inputs>")
            for i, (_, _, iname) in enumerate(filters[1]):
                lines.append(f'                <Input key="{i + 1}" name="{iname}"/>')
            lines.append("              </Inputs>")
        else:
            lines.append("              <Inputs/>")
        lines.append("            </QueryOptions>")
        lines.append("          </Options>")
    lines.append("        </GenericOperationConfig>")
    body = f"""    <Operation xmlns="" returnApplicationErrors="{'true' if return_errors else 'false'}" trackResponse="false">
      <Archiving directory="" enabled="false"/>
      <Configuration>
{chr(10).join(lines)}
      </Configuration>
      <Tracking>
        <TrackedFields/>
      </Tracking>
      <Caching/>
    </Operation>"""
    op_id = cid("op:" + name)
    write(os.path.join(DEPLOY, "op-" + slug(name) + ".xml"),
          component(op_id, name, "connector-action", "cloudblue", body))
    return op_id


def slug(s):
    return "".join(c.lower() if c.isalnum() else "-" for c in s).strip("-").replace("--", "-")


def static(key, value):
    return (f'<parametervalue key="{key}" valueType="static"><staticparameter staticproperty={quoteattr(value)}/>'
            f'</parametervalue>')


def process_prop(key, name):
    return (f'<parametervalue key="{key}" valueType="process"><processparameter processproperty="{name}" '
            f'processpropertydefaultvalue=""/></parametervalue>')


def track(key, prop):
    return (f'<parametervalue key="{key}" valueType="track"><trackparameter defaultValue="" propertyId="{prop}" '
            f'propertyName="{prop}"/></parametervalue>')


class Proc:
    """A process: a list of shapes, each (shapetype, userlabel, configuration xml, [targets])."""

    def __init__(self, name, start="passthroughaction"):
        self.name = name
        self.shapes = [["start", "", f"<{start}/>", []]]

    def add(self, shapetype, label, config, after=None, identifier=None):
        n = len(self.shapes) + 1
        src = self.shapes[after - 1] if after else self.shapes[-1]
        src[3].append((n, identifier))
        self.shapes.append([shapetype, label, config, []])
        return n

    def setprops(self, props, after=None):
        """props: [(propertyId, parametervalue xml)]"""
        items = []
        for pid, pv in props:
            items.append(f'              <documentproperty defaultValue="" isTradingPartner="false" name="{pid}" '
                         f'persist="false" propertyId="{pid}">\n                <sourcevalues>{pv}</sourcevalues>\n'
                         f'              </documentproperty>')
        return self.add("documentproperties", "Set Properties",
                        "<documentproperties>\n" + "\n".join(items) + "\n            </documentproperties>", after)

    def connector(self, label, op_id, params=(), action="EXECUTE", ctype="cloudblue", after=None):
        ps = "".join(f'<parametervalue elementToSetId="{i + 1}" elementToSetName="{n}" key="{i}" '
                     f'usesEncryption="false" valueType="static"><staticparameter staticproperty={quoteattr(v)}/>'
                     f'</parametervalue>' for i, (n, v) in enumerate(params))
        cfg = (f'<connectoraction actionType="{action}" allowDynamicCredentials="NONE" connectionId="{CONN_ID}" '
               f'connectorType="{ctype}" hideSettings="false" operationId="{op_id}" '
               f'parameter-profile="EMBEDDED|genericparameterchooser|{op_id}"><parameters>{ps}</parameters>'
               f'<dynamicProperties/></connectoraction>')
        return self.add("connectoraction", label, cfg, after)

    def message(self, text, after=None):
        return self.add("message", "Body", f'<message combined="false"><msgTxt>{text}</msgTxt><msgParameters/></message>',
                        after)

    def xml(self):
        out = []
        for i, (stype, label, cfg, targets) in enumerate(self.shapes, 1):
            dps = []
            for j, (t, ident) in enumerate(targets, 1):
                idattr = f' identifier="{ident}" text="{ident}"' if ident else ""
                dps.append(f'            <dragpoint{idattr} name="shape{i}.dragpoint{j}" toShape="shape{t}" '
                           f'x="{i * 192 + 160}.0" y="{j * 96 - 40}.0"/>')
            dp = ("<dragpoints>\n" + "\n".join(dps) + "\n          </dragpoints>") if dps else "<dragpoints/>"
            out.append(f'        <shape image="{stype}_icon" name="shape{i}" shapetype="{stype}" '
                       f'userlabel={quoteattr(label)} x="{i * 192}.0" y="48.0">\n'
                       f'          <configuration>{cfg}</configuration>\n          {dp}\n        </shape>')
        body = f"""    <process xmlns="" allowSimultaneous="false" enableUserLog="false" processLogOnErrorOnly="false"
        purgeDataImmediately="false" updateRunDates="false" workload="general">
      <shapes>
{chr(10).join(out)}
      </shapes>
    </process>"""
        write(os.path.join(DEPLOY, "process-" + slug(self.name) + ".xml"),
              component(cid("process:" + self.name), self.name, "process", None, body))


# ---- Prism cases: every action x object of the connector, validated against the official spec ----
# (object, action, id source, ids, input body). id source: "prop" = connector.cloudblue.KEY set by a
# Set Properties shape, "ddp" = dynamicdocument.KEY, "param" = a step parameter named KEY, "json" =
# the input JSON's "id" (resource id only; parent ids then come from properties).
R, TCR = "PR-1234-5678-9012-001", "TCR-1234-5678-9012-001"
PRISM = [
    ("REQUEST", "GET", "json", {}, {"id": R}),
    ("REQUEST", "LIST", "prop", {}, None),
    ("REQUEST", "UPDATE", "prop", {"request_id": R}, {"asset": {"params": [{"id": "param_a", "value": "42"}]}}),
    ("REQUEST", "APPROVE", "prop", {"request_id": R}, {"template_id": "TL-123-456-789"}),
    ("REQUEST", "REJECT", "ddp", {"request_id": R}, {"reason": "Out of stock"}),
    ("REQUEST", "INQUIRE", "param", {"request_id": R}, {"template_id": "TL-123-456-789"}),
    ("REQUEST", "PENDING", "prop", {"request_id": R}, None),
    ("REQUEST", "ASSIGN", "prop", {"request_id": R}, {"id": "UR-123-456-789"}),
    ("REQUEST", "UNASSIGN", "prop", {"request_id": R}, None),
    ("REQUEST", "PURCHASE", "prop", {"request_id": R}, None),
    ("PURCHASE_REQUEST", "CREATE", "prop", {}, {"type": "purchase", "asset": {"external_uid": "c8c3b2f4-0a1e-4a5b-9c1d-0a5d6c7e8f90",
                                                  "connection": {"id": "CT-0000-0000-0000"},
                                                  "params": [{"id": "param_a", "value": "x"}]}}),
    ("CHANGE_REQUEST", "CREATE", "prop", {}, {"type": "change", "asset": {"id": "AS-1234-5678-9012"}}),
    ("ADMIN_HOLD_REQUEST", "CREATE", "prop", {}, {"type": "suspend", "asset": {"id": "AS-1234-5678-9012"}}),
    ("BILLING_REQUEST", "CREATE", "prop", {}, {"asset_id": "AS-1234-5678-9012", "type": "vendor",
                                                "items": [{"id": "PRD-1-0001", "quantity": 1}],
                                                "period_from": "2026-01-01T00:00:00+00:00",
                                                "period_to": "2026-02-01T00:00:00+00:00", "period_delta": 1,
                                                "period_uom": "monthly"}),
    ("ASSET", "GET", "ddp", {"asset_id": "AS-1234-5678-9012"}, None),
    ("ASSET", "LIST", "prop", {}, None),
    ("SUBSCRIPTION_REQUEST", "GET", "prop", {"request_id": "BRP-1234-5678-9012-0001"}, None),
    ("SUBSCRIPTION_REQUEST", "LIST", "prop", {}, None),
    ("SUBSCRIPTION_ASSET", "GET", "prop", {"asset_id": "AS-1234-5678-9012"}, None),
    ("SUBSCRIPTION_ASSET", "LIST", "prop", {}, None),
    ("BILLING_REQUEST_ATTRIBUTE", "UPDATE", "prop", {"request_id": "BRP-1234-5678-9012-0001"}, {"vendor": {"external_id": "V-1"}}),
    ("TIER_ACCOUNT", "GET", "prop", {"tier_account_id": "TA-1234-5678-9012"}, None),
    ("TIER_ACCOUNT", "LIST", "prop", {}, None),
    ("TIER_ACCOUNT", "CREATE", "prop", {}, {"name": "Acme", "external_uid": "acme-1", "hub": {"id": "HB-1234-5678"},
                                             "contact_info": {"address_line1": "1 Main St", "city": "Springfield",
                                                              "country": "US", "postal_code": "12345",
                                                              "contact": {"first_name": "Ann", "last_name": "Lee",
                                                                          "email": "ann@example.com"}}}),
    ("TIER_ACCOUNT", "UPDATE", "param", {"tier_account_id": "TA-1234-5678-9012"}, {"name": "Acme Ltd"}),
    ("TIER_ACCOUNT_VERSION", "GET", "prop", {"tier_account_id": "TA-1234-5678-9012", "tier_account_version": "2"}, None),
    ("TIER_ACCOUNT_VERSION", "LIST", "prop", {"tier_account_id": "TA-1234-5678-9012"}, None),
    ("TIER_ACCOUNT_REQUEST", "GET", "prop", {"tier_account_request_id": "TAR-1234-5678-9012-001"}, None),
    ("TIER_ACCOUNT_REQUEST", "LIST", "prop", {}, None),
    ("TIER_ACCOUNT_REQUEST", "CREATE", "prop", {}, {"type": "update", "account": {"id": "TA-1234-5678-9012"}}),
    ("TIER_ACCOUNT_REQUEST", "ACCEPT", "prop", {"tier_account_request_id": "TAR-1234-5678-9012-001"}, None),
    ("TIER_ACCOUNT_REQUEST", "IGNORE", "prop", {"tier_account_request_id": "TAR-1234-5678-9012-001"}, {"reason": "duplicate"}),
    ("TIER_CONFIG_REQUEST", "GET", "json", {}, {"id": TCR}),
    ("TIER_CONFIG_REQUEST", "LIST", "prop", {}, None),
    ("TIER_CONFIG_REQUEST", "CREATE", "prop", {}, {"configuration": {"id": "TC-1234-5678-9012"}, "type": "setup"}),
    ("TIER_CONFIG_REQUEST", "UPDATE", "prop", {"tier_config_request_id": TCR}, {"configuration": {"id": "TC-1234-5678-9012"},
                                                                               "params": [{"id": "param_t", "value": "1"}]}),
    ("TIER_CONFIG_REQUEST", "APPROVE", "prop", {"tier_config_request_id": TCR}, {"template": {"id": "TL-123-456-789"}}),
    ("TIER_CONFIG_REQUEST", "INQUIRE", "ddp", {"tier_config_request_id": TCR}, None),
    ("TIER_CONFIG_REQUEST", "PENDING", "param", {"tier_config_request_id": TCR}, None),
    ("TIER_CONFIG_REQUEST", "REJECT", "prop", {"tier_config_request_id": TCR}, {"reason": "invalid parameters"}),
    ("TIER_CONFIG", "GET", "prop", {"tier_config_id": "TC-1234-5678-9012"}, None),
    ("TIER_CONFIG", "LIST", "prop", {}, None),
    ("PRODUCT", "GET", "prop", {"product_id": "PRD-123-456-789"}, None),
    ("PRODUCT", "LIST", "prop", {}, None),
    ("PRODUCT_TEMPLATE", "GET", "prop", {"product_id": "PRD-123-456-789", "template_id": "TL-123-456-789"}, None),
    ("PRODUCT_TEMPLATE", "LIST", "prop", {"product_id": "PRD-123-456-789"}, None),
    ("PRODUCT_ACTION", "GET", "prop", {"product_id": "PRD-123-456-789", "action_id": "PRA-123-456"}, None),
    ("PRODUCT_ACTION", "LIST", "ddp", {"product_id": "PRD-123-456-789"}, None),
    ("PRODUCT_ITEM", "GET", "prop", {"product_id": "PRD-123-456-789", "item_id": "PRD-123-456-789-0001"}, None),
    ("PRODUCT_ITEM", "LIST", "prop", {"product_id": "PRD-123-456-789"}, None),
    ("PRODUCT_PARAMETER", "GET", "prop", {"product_id": "PRD-123-456-789", "parameter_id": "PRM-123-456-789-0001"}, None),
    ("PRODUCT_PARAMETER", "LIST", "param", {"product_id": "PRD-123-456-789"}, None),
    ("PRODUCT_CONFIGURATION", "LIST", "prop", {"product_id": "PRD-123-456-789"}, None),
    ("PRODUCT_ACTION_LINK", "GET", "prop", {"product_id": "PRD-123-456-789", "action_id": "PRA-123-456",
                                            "asset_id": "AS-1234-5678-9012"}, None),
    ("USAGE_REPORT", "GET", "prop", {"usage_report_id": "UF-2026-11-1234-5678"}, None),
    ("USAGE_REPORT", "LIST", "prop", {}, None),
    ("USAGE_REPORT", "CREATE", "prop", {}, {"name": "November", "product": {"id": "PRD-123-456-789"},
                                             "contract": {"id": "CRD-12345-67890-12345"}, "currency": "USD"}),
    ("USAGE_REPORT", "UPDATE", "prop", {"usage_report_id": "UF-2026-11-1234-5678"}, {"description": "corrected"}),
    ("USAGE_REPORT", "UPLOAD", "prop", {"usage_report_id": "UF-2026-11-1234-5678", "filename": "usage.xlsx"}, "FILE"),
    ("USAGE_REPORT", "UPLOAD_RECON_FILE", "prop", {"usage_report_id": "UF-2026-11-1234-5678"}, "FILE"),
    ("USAGE_REPORT", "CLOSE", "prop", {"usage_report_id": "UF-2026-11-1234-5678"}, None),
    ("USAGE_REPORT", "SUBMIT", "prop", {"usage_report_id": "UF-2026-11-1234-5678"}, None),
    ("USAGE_REPORT", "REPROCESS", "prop", {"usage_report_id": "UF-2026-11-1234-5678"}, None),
    ("USAGE_REPORT", "DELETE", "prop", {"usage_report_id": "UF-2026-11-1234-5678"}, None),
    ("USAGE_REPORT", "REJECT", "prop", {"usage_report_id": "UF-2026-11-1234-5678"}, {"rejection_note": "wrong totals"}),
    ("USAGE_REPORT", "ACCEPT", "prop", {"usage_report_id": "UF-2026-11-1234-5678"}, {"acceptance_note": "ok"}),
    ("USAGE_RECORD", "GET", "prop", {"usage_record_id": "UR-2026-11-1234-5678-0001"}, None),
    ("USAGE_RECORD", "LIST", "prop", {}, None),
    ("USAGE_RECORD", "CLOSE", "prop", {"usage_record_id": "UR-2026-11-1234-5678-0001"}, {"external_billing_id": "INV-1"}),
    ("USAGE_RECORD", "BULK_CLOSE", "prop", {}, [{"id": "UR-2026-11-1234-5678-0001", "external_billing_id": "INV-1"},
                                                 {"id": "UR-2026-11-1234-5678-0002", "external_billing_id": "INV-1"}]),
    ("USAGE_CHUNK", "GET", "prop", {"usage_chunk_id": "UFC-2026-11-1234-5678-001"}, None),
    ("USAGE_CHUNK", "LIST", "prop", {}, None),
    ("USAGE_CHUNK", "REGENERATE", "prop", {"usage_chunk_id": "UFC-2026-11-1234-5678-001"}, None),
    ("USAGE_CHUNK", "CLOSE", "prop", {"usage_chunk_id": "UFC-2026-11-1234-5678-001"}, {"external_billing_id": "INV-2"}),
    ("USAGE_CHUNK", "DOWNLOAD", "prop", {"usage_chunk_id": "UFC-2026-11-1234-5678-001"}, None),
    ("USAGE_CHUNK", "UPDATE", "prop", {"usage_chunk_id": "UFC-2026-11-1234-5678-001"}, {"external_id": "EXT-9"}),
    ("USAGE_RECONCILIATION", "GET", "prop", {"usage_recon_id": "URC-2026-11-1234"}, None),
    ("USAGE_RECONCILIATION", "LIST", "prop", {}, None),
    ("USAGE_RECONCILIATION", "UPLOAD", "prop", {"upload_note": "November reconciliation"}, "FILE"),
    ("RECONCILIATION_PROCESSED_FILE", "DOWNLOAD", "prop", {"usage_recon_id": "URC-2026-11-1234"}, None),
    ("RECONCILIATION_UPLOADED_FILE", "DOWNLOAD", "prop", {"usage_recon_id": "URC-2026-11-1234"}, None),
    ("USAGE_AGGREGATE", "LIST", "prop", {}, None),
    ("ASSET_USAGE_AGGREGATE", "LIST", "prop", {"asset_id": "AS-1234-5678-9012"}, None),
    ("CASE", "GET", "prop", {"case_id": "CA-123-456-789"}, None),
    ("CASE", "LIST", "prop", {}, None),
    ("CASE", "CREATE", "prop", {}, {"subject": "Activation", "description": "The activation fails", "type": "technical",
                                     "receiver": {"account": {"id": "PA-123-456"}}}),
    ("CASE", "PENDING", "prop", {"case_id": "CA-123-456-789"}, None),
    ("CASE", "INQUIRE", "prop", {"case_id": "CA-123-456-789"}, None),
    ("CASE", "RESOLVE", "prop", {"case_id": "CA-123-456-789"}, None),
    ("CASE", "CLOSE", "prop", {"case_id": "CA-123-456-789"}, {"feedback": "thanks"}),
    ("CONVERSATION_MESSAGES", "LIST", "prop", {"conversation_id": "CO-123-456-789"}, None),
    ("CONVERSATION_MESSAGES", "CREATE", "prop", {"conversation_id": "CO-123-456-789"}, {"text": "Hello"}),
]


def prism_cases():
    table = []
    for obj, action, source, ids, body in PRISM:
        name = f"Prism {obj} {action}"
        fields = []
        filters = None
        params = []
        sorts = ()
        if action == "LIST":
            fields = [("limit", "integer", "10"), ("offset", "integer", "0")]
            if obj == "REQUEST":  # filter fields, ordering and select of the operation
                filters = ("and", [("status", "eq", "status"), ("asset/product/id", "eq", "product")])
                params = [("status", "pending"), ("product", "PRD-123-456-789")]
                fields += [("select", "string", "-asset.params")]
                sorts = (("created", "desc"),)
        op_id = operation(f"CB {obj} {action}", obj, action, fields, filters, sorts=sorts)
        p = Proc(name)
        props = []
        for k, v in ids.items():
            if source == "param":
                params.append((k, v))
            elif source == "ddp":
                props.append((f"dynamicdocument.{k}", static(1, v)))
            else:
                props.append((f"connector.cloudblue.{k}", static(1, v)))
        if props:
            p.setprops(props)
        p.connector(f"{action} {LABELS[obj]}", op_id, params, "QUERY" if action == "LIST" else "EXECUTE")
        p.xml()
        inp = os.path.join("inputs", "prism-" + slug(f"{obj} {action}") + (".xlsx" if body == "FILE" else ".json"))
        with open(os.path.join(HERE, inp), "wb") as f:
            if body == "FILE":
                f.write(b"PK\x03\x04 not really a spreadsheet, but bytes: \x00\x01\x02\xff\r\n--end\r\n")
            elif body is None:
                f.write(b"")
            else:
                f.write(json.dumps(body).encode())
        table.append(f"{name}|{inp}")
    write(os.path.join(HERE, "prism-cases.txt"),
          "# process|input file - generated by gen_fixtures.py: one case per action x object\n" + "\n".join(table) + "\n")


# ---- fake server workflows ----

def fake_cases():
    list_all = operation("CB Fake List Requests", "REQUEST", "LIST", [("limit", "integer", "100")],
                         sorts=(("created", "asc"),))
    p = Proc("Fake List Requests", start="noaction")
    p.setprops([("connector.cloudblue.filter.status", process_prop(1, "STATUS"))])
    p.connector("List requests", list_all, action="QUERY")
    p.xml()

    list_pending = operation("CB Fake List Pending", "REQUEST", "LIST", [("limit", "integer", "100")],
                             ("and", [("status", "eq", "status")]))
    approve = operation("CB Fake Approve", "REQUEST", "APPROVE")
    p = Proc("Approve Pending Requests", start="noaction")
    b = p.add("branch", "", '<branch numBranches="2"/>')
    l1 = p.connector("List pending", list_pending, [("status", "pending")], action="QUERY", after=b)
    p.shapes[b - 1][3][-1] = (l1, "1")
    m = p.message("'{\"template_id\": \"TL-111-222-333\"}'", after=l1)
    p.connector("Approve", approve, after=m)
    l2 = p.connector("List pending again", list_pending, [("status", "pending")], action="QUERY", after=b)
    p.shapes[b - 1][3][-1] = (l2, "2")
    p.xml()

    get = operation("CB Fake Get Request", "REQUEST", "GET")
    p = Proc("Fake Get Request")
    p.connector("Get request", get)
    p.xml()

    get_err = operation("CB Fake Get Request Return Errors", "REQUEST", "GET", return_errors=True)
    p = Proc("Fake Get Request Return Errors")
    p.connector("Get request", get_err)
    p.xml()

    # a real export names its account's connector type id; connector.map.<id> = cloudblue runs it
    p = Proc("Fake Get Request Exported Type")
    p.connector("Get request", get, ctype="cloudbluecon-EXAMPL-cloudbluecon-prod")
    p.xml()


def main():
    os.makedirs(DEPLOY, exist_ok=True)
    os.makedirs(INPUTS, exist_ok=True)
    for d in (DEPLOY, INPUTS):
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
    connection()
    prism_cases()
    fake_cases()


if __name__ == "__main__":
    main()
