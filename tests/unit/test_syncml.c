/* test_syncml.c -- libs/syncml: real device and server messages, refused inputs (tests/data/syncml), the writer, command specs, WBXML both ways. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "mdm_err.h"
#include "mdm_syncml.h"

#include "support/vectors.h"

/* Parses a whole vector file; fails the test with the error text when it does not parse. */
static mdm_sml_msg_t *s_parse_vec(const char *name)
{
	size_t len;
	char *buf = s_vec(name, &len);
	mdm_err_t err = {0};
	mdm_sml_msg_t *msg = mdm_sml_parse(buf, len, MDM_SML_CT_XML, &err);
	free(buf);
	if (msg == NULL)
		fail_msg("%s: %s", name, err.text);
	return msg;
}

static mdm_sml_msg_t *s_parse_str(const char *xml, mdm_err_t *err)
{
	return mdm_sml_parse(xml, strlen(xml), NULL, err);
}

/* NULL-safe string equality for assertions. */
static void s_eq(const char *got, const char *want)
{
	if (got == NULL && want == NULL)
		return;
	if (got == NULL || want == NULL)
		fail_msg("got %s, want %s", got ? got : "NULL", want ? want : "NULL");
	assert_string_equal(got, want);
}

static void s_item_eq(const mdm_sml_item_t *a, const mdm_sml_item_t *b)
{
	s_eq(a->target, b->target);
	s_eq(a->source, b->source);
	s_eq(a->format, b->format);
	s_eq(a->type, b->type);
	s_eq(a->data, b->data);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->more_data, b->more_data);
}

static void s_cmd_eq(const mdm_sml_cmd_t *a, const mdm_sml_cmd_t *b)
{
	assert_string_equal(a->name, b->name);
	s_eq(a->cmd_id, b->cmd_id);
	s_eq(a->data, b->data);
	s_eq(a->msg_ref, b->msg_ref);
	s_eq(a->cmd_ref, b->cmd_ref);
	s_eq(a->cmd, b->cmd);
	s_eq(a->meta_type, b->meta_type);
	s_eq(a->meta_format, b->meta_format);
	s_eq(a->target_ref, b->target_ref);
	s_eq(a->source_ref, b->source_ref);
	s_eq(a->original_error, b->original_error);
	s_eq(a->chal_type, b->chal_type);
	s_eq(a->chal_format, b->chal_format);
	s_eq(a->chal_next_nonce, b->chal_next_nonce);
	assert_int_equal(a->no_resp, b->no_resp);
	assert_int_equal(a->n_items, b->n_items);
	for (size_t i = 0; i < a->n_items; i++)
		s_item_eq(&a->items[i], &b->items[i]);
	assert_int_equal(a->n_children, b->n_children);
	for (size_t i = 0; i < a->n_children; i++)
		s_cmd_eq(&a->children[i], &b->children[i]);
}

/* Everything equal except the wbxml flag. */
static void s_msg_eq(const mdm_sml_msg_t *a, const mdm_sml_msg_t *b)
{
	s_eq(a->ver_dtd, b->ver_dtd);
	s_eq(a->ver_proto, b->ver_proto);
	s_eq(a->session_id, b->session_id);
	s_eq(a->msg_id, b->msg_id);
	s_eq(a->target, b->target);
	s_eq(a->source, b->source);
	assert_int_equal(a->max_msg_size, b->max_msg_size);
	assert_int_equal(a->max_obj_size, b->max_obj_size);
	assert_int_equal(a->has_cred, b->has_cred);
	s_eq(a->cred_type, b->cred_type);
	s_eq(a->cred_format, b->cred_format);
	s_eq(a->cred_data, b->cred_data);
	assert_int_equal(a->final, b->final);
	assert_int_equal(a->n_cmds, b->n_cmds);
	for (size_t i = 0; i < a->n_cmds; i++)
		s_cmd_eq(&a->cmds[i], &b->cmds[i]);
}

static const char *const s_devinfo_paths[] = {"./DevInfo/DevId", "./DevInfo/Man", "./DevInfo/Mod",
					      "./DevInfo/DmV", "./DevInfo/Lang"};

#define FLEET_DEV "B5B954E81FBCB94EB79BD08BE625F4EE"
#define FLEET_URL "https://windows.fleetdm.ngrok.io/ManagementServer/MDM.svc"
#define WSO2_DEV "urn:uuid:FAEFB2D5-1771-5446-A635-797AFC474895"
#define WSO2_URL "https://EnterpriseEnrollment.wso2.com/Syncml/initialquery"

/* ---- real messages ------------------------------------------------------------------- */

static void s_check_fleet_replace(const mdm_sml_cmd_t *r, const char *cmd_id)
{
	static const char *const values[] = {FLEET_DEV, "VMware, Inc.", "VMware7,1", "1.3", "en-US"};
	assert_string_equal(r->name, "Replace");
	assert_string_equal(r->cmd_id, cmd_id);
	assert_int_equal(r->n_items, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(r->items[i].source, s_devinfo_paths[i]);
		assert_null(r->items[i].target);
		assert_string_equal(r->items[i].data, values[i]);
		assert_null(r->items[i].format);
		assert_int_equal(r->items[i].size, -1);
		assert_int_equal(r->items[i].more_data, 0);
	}
}

static void test_fleet_first_session(void **state)
{
	NEED_VECTORS();
	mdm_sml_msg_t *m = s_parse_vec("fleet_w10_08_syncml_s1m1_device_alert1201_devinfo.xml");
	assert_string_equal(m->ver_dtd, "1.2");
	assert_string_equal(m->ver_proto, "DM/1.2");
	assert_string_equal(m->session_id, "1");
	assert_string_equal(m->msg_id, "1");
	assert_string_equal(m->target, FLEET_URL);
	assert_string_equal(m->source, FLEET_DEV);
	assert_int_equal(m->max_msg_size, -1);
	assert_int_equal(m->has_cred, 0);
	assert_int_equal(m->final, 1);
	assert_int_equal(m->wbxml, 0);
	assert_int_equal(m->n_cmds, 3);

	const mdm_sml_cmd_t *a = &m->cmds[0];
	assert_string_equal(a->name, "Alert");
	assert_string_equal(a->cmd_id, "2");
	assert_string_equal(a->data, "1201");
	assert_int_equal(a->n_items, 0);
	assert_int_equal(a->n_children, 0);

	a = &m->cmds[1];
	assert_string_equal(a->name, "Alert");
	assert_string_equal(a->cmd_id, "3");
	assert_string_equal(a->data, "1224");
	assert_int_equal(a->n_items, 1);
	assert_string_equal(a->items[0].type, "com.microsoft/MDM/LoginStatus");
	assert_null(a->items[0].format);
	assert_string_equal(a->items[0].data, "user");
	assert_null(a->meta_type);

	s_check_fleet_replace(&m->cmds[2], "4");
	mdm_sml_msg_destroy(&m);
	assert_null(m);
	mdm_sml_msg_destroy(&m); /* harmless */
}

static void test_fleet_unenroll(void **state)
{
	NEED_VECTORS();
	mdm_sml_msg_t *m = s_parse_vec("fleet_w10_10_syncml_s2m1_device_unenroll_alert1226.xml");
	assert_string_equal(m->session_id, "2");
	assert_string_equal(m->msg_id, "1");
	assert_string_equal(m->source, FLEET_DEV);
	assert_int_equal(m->n_cmds, 4);
	assert_string_equal(m->cmds[0].data, "1201");
	assert_string_equal(m->cmds[1].data, "1224");
	const mdm_sml_cmd_t *a = &m->cmds[2];
	assert_string_equal(a->name, "Alert");
	assert_string_equal(a->cmd_id, "4");
	assert_string_equal(a->data, "1226");
	assert_int_equal(a->n_items, 1);
	assert_string_equal(a->items[0].type, "com.microsoft:mdm.unenrollment.userrequest");
	assert_string_equal(a->items[0].format, "int");
	assert_string_equal(a->items[0].data, "1");
	s_check_fleet_replace(&m->cmds[3], "5");
	assert_int_equal(m->final, 1);
	mdm_sml_msg_destroy(&m);
}

static void s_check_status(const mdm_sml_cmd_t *s, const char *id, const char *msg_ref,
			   const char *cmd_ref, const char *cmd, const char *code)
{
	assert_string_equal(s->name, "Status");
	assert_string_equal(s->cmd_id, id);
	assert_string_equal(s->msg_ref, msg_ref);
	assert_string_equal(s->cmd_ref, cmd_ref);
	assert_string_equal(s->cmd, cmd);
	assert_string_equal(s->data, code);
}

static void test_fleet_server_replies(void **state)
{
	NEED_VECTORS();
	mdm_sml_msg_t *m = s_parse_vec("fleet_w10_09_syncml_s1m1_server_status.xml");
	assert_string_equal(m->session_id, "1");
	assert_string_equal(m->target, FLEET_DEV);
	assert_string_equal(m->source, FLEET_URL);
	assert_int_equal(m->n_cmds, 4);
	s_check_status(&m->cmds[0], "1", "1", "0", "SyncHdr", "200");
	s_check_status(&m->cmds[1], "2", "1", "2", "Alert", "200");
	s_check_status(&m->cmds[2], "3", "1", "3", "Alert", "200");
	s_check_status(&m->cmds[3], "4", "1", "4", "Replace", "200");
	assert_int_equal(m->final, 1);
	mdm_sml_msg_destroy(&m);

	m = s_parse_vec("fleet_w10_11_syncml_s2m1_server_status.xml");
	assert_string_equal(m->session_id, "2");
	assert_int_equal(m->n_cmds, 1);
	s_check_status(&m->cmds[0], "1", "1", "0", "SyncHdr", "200");
	assert_int_equal(m->final, 1);
	mdm_sml_msg_destroy(&m);
}

static void test_wso2_utf16_cred(void **state)
{
	NEED_VECTORS();
	mdm_sml_msg_t *m = s_parse_vec("wso2_wp81_05_syncml_s1m1_device_utf16.xml");
	assert_string_equal(m->session_id, "1");
	assert_string_equal(m->msg_id, "1");
	assert_string_equal(m->target, WSO2_URL);
	assert_string_equal(m->source, WSO2_DEV);
	assert_int_equal(m->has_cred, 1);
	assert_string_equal(m->cred_type, "syncml:auth-md5");
	assert_string_equal(m->cred_format, "b64");
	assert_string_equal(m->cred_data, "Fy80ofqnfKLFLWD+rzm9tQ==");
	assert_int_equal(m->n_cmds, 2);
	assert_string_equal(m->cmds[0].name, "Alert");
	assert_string_equal(m->cmds[0].cmd_id, "2");
	assert_string_equal(m->cmds[0].data, "1201");
	const mdm_sml_cmd_t *r = &m->cmds[1];
	assert_string_equal(r->name, "Replace");
	assert_string_equal(r->cmd_id, "3");
	assert_int_equal(r->n_items, 5);
	static const char *const values[] = {WSO2_DEV, "NOKIA", "Lumia 630", "1.3", "en-GB"};
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(r->items[i].source, s_devinfo_paths[i]);
		assert_string_equal(r->items[i].data, values[i]);
	}
	assert_int_equal(m->final, 1);
	mdm_sml_msg_destroy(&m);
}

static void test_wso2_utf16_status_results(void **state)
{
	NEED_VECTORS();
	mdm_sml_msg_t *m = s_parse_vec("wso2_wp81_06_syncml_s1m2_device_status_results_utf16.xml");
	assert_string_equal(m->msg_id, "2");
	assert_string_equal(m->source, WSO2_DEV);
	assert_int_equal(m->has_cred, 0);
	assert_int_equal(m->n_cmds, 3);
	const mdm_sml_cmd_t *s = &m->cmds[0];
	s_check_status(s, "1", "1", "0", "SyncHdr", "212");
	assert_string_equal(s->chal_type, "syncml:auth-md5");
	assert_string_equal(s->chal_format, "b64");
	assert_string_equal(s->chal_next_nonce, "8mbuo826FKbvgnASnKnkSGhTQa4tlnuE9pYW1LDEbEc=");
	s_check_status(&m->cmds[1], "2", "1", "75", "Get", "200");
	assert_null(m->cmds[1].chal_type);

	const mdm_sml_cmd_t *r = &m->cmds[2];
	assert_string_equal(r->name, "Results");
	assert_string_equal(r->cmd_id, "3");
	assert_string_equal(r->msg_ref, "1");
	assert_string_equal(r->cmd_ref, "75");
	assert_null(r->cmd);
	assert_int_equal(r->n_items, 7);
	assert_string_equal(r->items[0].source, "./DevDetail/SwV");
	assert_string_equal(r->items[0].data, "8.10.12397.895");
	assert_string_equal(r->items[1].source, "./Vendor/MSFT/DeviceInstanceService/Identity/Identity1/IMSI");
	assert_string_equal(r->items[1].data, ""); /* <Data/>: present but empty */
	assert_string_equal(r->items[2].data, "355768067631021");
	assert_string_equal(r->items[6].source, "./DevInfo/Lang");
	assert_string_equal(r->items[6].data, "en-GB");
	mdm_sml_msg_destroy(&m);
}

/* The MS-MDM §4 exchange is annotated text: each <SyncML>...</SyncML> is one message. */
static void test_spec_exchange(void **state)
{
	NEED_VECTORS();
	char *txt = s_vec("spec_ms-mdm_4_protocol_example_full_exchange.txt", NULL);
	mdm_sml_msg_t *msgs[3] = {0};
	const char *p = txt;
	for (int i = 0; i < 3; i++) {
		const char *start = strstr(p, "<SyncML");
		assert_non_null(start);
		const char *end = strstr(start, "</SyncML>");
		assert_non_null(end);
		end += strlen("</SyncML>");
		mdm_err_t err = {0};
		msgs[i] = mdm_sml_parse(start, (size_t)(end - start), MDM_SML_CT_XML, &err);
		if (msgs[i] == NULL)
			fail_msg("message %d: %s", i + 1, err.text);
		p = end;
	}
	assert_null(strstr(p, "<SyncML"));
	assert_int_equal(msgs[0]->n_cmds, 2);
	assert_string_equal(msgs[0]->cmds[0].items[0].type, "com.microsoft/MDM/LoginStatus");
	assert_int_equal(msgs[0]->cmds[1].n_items, 5);
	/* server: a SyncHdr Status and two Gets; the XML comment is not a command */
	assert_int_equal(msgs[1]->n_cmds, 3);
	assert_string_equal(msgs[1]->cmds[1].name, "Get");
	assert_string_equal(msgs[1]->cmds[1].cmd_id, "4");
	assert_string_equal(msgs[1]->cmds[1].items[0].target, "./DevDetail/SwV");
	assert_string_equal(msgs[1]->cmds[2].items[0].target, "./ DevDetail/HwV"); /* spec typo, kept */
	/* device: Statuses and Results with Cmd and Meta Format */
	assert_int_equal(msgs[2]->n_cmds, 5);
	const mdm_sml_cmd_t *r = &msgs[2]->cmds[3];
	assert_string_equal(r->name, "Results");
	assert_string_equal(r->cmd, "Get");
	assert_string_equal(r->cmd_ref, "4");
	assert_string_equal(r->items[0].format, "chr");
	assert_string_equal(r->items[0].data, "[software version returned here]");
	for (int i = 0; i < 3; i++)
		mdm_sml_msg_destroy(&msgs[i]);
	free(txt);
}

/* Re-serializes a vector as UTF-8 (libxml2) so a test can rewrite its bytes. */
static const char *const s_sml_vectors[] = {
	"fleet_w10_08_syncml_s1m1_device_alert1201_devinfo.xml",
	"fleet_w10_09_syncml_s1m1_server_status.xml",
	"fleet_w10_10_syncml_s2m1_device_unenroll_alert1226.xml",
	"fleet_w10_11_syncml_s2m1_server_status.xml",
	"wso2_wp81_05_syncml_s1m1_device_utf16.xml",
	"wso2_wp81_06_syncml_s1m2_device_status_results_utf16.xml",
};

/* Every real message encoded as WBXML (libwbxml2) parses to exactly what its XML gives,
 * through the content type and through sniffing the first byte. */
static void test_vectors_wbxml(void **state)
{
	NEED_VECTORS();
	for (size_t v = 0; v < sizeof s_sml_vectors / sizeof s_sml_vectors[0]; v++) {
		size_t len, wlen = 0;
		char *xml = s_vec(s_sml_vectors[v], &len);
		mdm_err_t err = {0};
		mdm_sml_msg_t *a = mdm_sml_parse(xml, len, MDM_SML_CT_XML, &err);
		assert_non_null(a);
		char *wb = mdm_sml_xml_to_wbxml(xml, len, &wlen, &err);
		if (wb == NULL)
			fail_msg("%s: %s", s_sml_vectors[v], err.text);
		assert_true(wlen > 4 && wlen < len);
		assert_memory_equal(wb, "\x02\xA4\x01\x6A", 4); /* WBXML 1.2, SyncML 1.2, UTF-8 */
		mdm_sml_msg_t *b = mdm_sml_parse(wb, wlen, MDM_SML_CT_WBXML "; charset=utf-8", &err);
		if (b == NULL)
			fail_msg("%s as WBXML: %s", s_sml_vectors[v], err.text);
		assert_int_equal(b->wbxml, 1);
		s_msg_eq(a, b);
		mdm_sml_msg_t *c = mdm_sml_parse(wb, wlen, NULL, &err);
		assert_non_null(c);
		assert_int_equal(c->wbxml, 1);
		s_msg_eq(a, c);
		mdm_sml_msg_destroy(&a);
		mdm_sml_msg_destroy(&b);
		mdm_sml_msg_destroy(&c);
		free(wb);
		free(xml);
	}
}

/* ---- refused inputs (tests/data/syncml/invalid/<case>/{input,error[,content-type]}) --- */

static void test_invalid_cases(void **state)
{
	char dir[PATH_MAX + 64];
	snprintf(dir, sizeof dir, "%s/syncml/invalid", s_data());
	DIR *d = opendir(dir);
	if (d == NULL)
		fail_msg("cannot open %s", dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char p[sizeof dir + 300];
		size_t len;
		snprintf(p, sizeof p, "%s/%s/input", dir, e->d_name);
		char *input = s_read(p, &len);
		if (input == NULL)
			fail_msg("%s: no input", e->d_name);
		snprintf(p, sizeof p, "%s/%s/error", dir, e->d_name);
		char *expect = s_read(p, NULL);
		if (expect == NULL)
			fail_msg("%s: no error file", e->d_name);
		char *nl = strchr(expect, '\n');
		if (nl == NULL)
			fail_msg("%s: error file needs two lines", e->d_name);
		*nl = '\0';
		char *text = nl + 1;
		text[strcspn(text, "\n")] = '\0';
		snprintf(p, sizeof p, "%s/%s/content-type", dir, e->d_name);
		char *ct = s_read(p, NULL);
		if (ct)
			ct[strcspn(ct, "\r\n")] = '\0';

		mdm_err_t err = {0};
		mdm_sml_msg_t *m = mdm_sml_parse(input, len, ct, &err);
		if (m != NULL)
			fail_msg("%s: parsed, expected %s", e->d_name, text);
		if (strcmp(mdm_code_name(err.code), expect) != 0 || strstr(err.text, text) == NULL)
			fail_msg("%s: got %s \"%s\", want %s \"%s\"", e->d_name, mdm_code_name(err.code),
				 err.text, expect, text);
		free(ct);
		free(expect);
		free(input);
		n++;
	}
	closedir(d);
	print_message("%d refused inputs checked\n", n);
	assert_true(n >= 20);
}

/* ---- parser details ------------------------------------------------------------------- */

#define HDR(msgid)                                                                              \
	"<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>" \
	"<SessionID>A1</SessionID><MsgID>" msgid "</MsgID><Target><LocURI>https://s/m</LocURI></Target>" \
	"<Source><LocURI>dev1</LocURI></Source></SyncHdr>"

static void test_parse_details(void **state)
{
	mdm_err_t err = {0};
	/* namespaces vary: prefixed root, metinfo typo, no namespace at all; text trimmed;
	 * MaxMsgSize/MaxObjSize; NoResp; originalerror; Data holding XML elements; unknown
	 * commands kept (long names cut); Final absent. */
	const char *xml =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<s:SyncML xmlns:s=\"SYNCML:SYNCML1.2\"><s:SyncHdr><s:VerDTD>1.2</s:VerDTD>"
		"<s:SessionID>\n  5F </s:SessionID><s:MsgID> 7 </s:MsgID>"
		"<s:Source><s:LocURI>dev1</s:LocURI></s:Source>"
		"<s:Meta><MaxMsgSize xmlns=\"syncml:metinf\">65536</MaxMsgSize>"
		"<MaxObjSize xmlns=\"syncml:metinf\">big</MaxObjSize></s:Meta></s:SyncHdr>"
		"<s:SyncBody xmlns:msft=\"http://schemas.microsoft.com/MobileDevice/MDM\">"
		"<s:Status><s:CmdID>1</s:CmdID><s:MsgRef>1</s:MsgRef><s:CmdRef>4</s:CmdRef>"
		"<s:Cmd>Replace</s:Cmd><s:TargetRef>./A</s:TargetRef><s:TargetRef>./B</s:TargetRef>"
		"<s:SourceRef>./S</s:SourceRef>"
		"<s:Data msft:originalerror=\"0x86000002\">404</s:Data></s:Status>"
		"<Replace><CmdID>2</CmdID><NoResp/><Meta><Type xmlns=\"syncml:metinfo\">text/plain</Type>"
		"<Format>chr</Format></Meta>"
		"<Item><Target><LocURI>./Vendor/MSFT/X</LocURI></Target>"
		"<Meta><Format xmlns=\"syncml:metinfo\">xml</Format><Size xmlns=\"syncml:metinf\">1234</Size></Meta>"
		"<Data><wap-provisioningdoc><characteristic type=\"A\"/></wap-provisioningdoc></Data>"
		"<MoreData/></Item></Replace>"
		"<SomeFutureCommandName><CmdID>3</CmdID><Item><Data>x</Data></Item></SomeFutureCommandName>"
		"<Frob><CmdID>4</CmdID></Frob>"
		"</s:SyncBody></s:SyncML>";
	mdm_sml_msg_t *m = s_parse_str(xml, &err);
	if (m == NULL)
		fail_msg("%s", err.text);
	assert_string_equal(m->session_id, "5F");
	assert_string_equal(m->msg_id, "7");
	assert_null(m->ver_proto);
	assert_null(m->target);
	assert_int_equal(m->max_msg_size, 65536);
	assert_int_equal(m->max_obj_size, -1);
	assert_int_equal(m->final, 0);
	assert_int_equal(m->n_cmds, 4);
	const mdm_sml_cmd_t *s = &m->cmds[0];
	assert_string_equal(s->target_ref, "./A");
	assert_string_equal(s->source_ref, "./S");
	assert_string_equal(s->data, "404");
	assert_string_equal(s->original_error, "0x86000002");
	const mdm_sml_cmd_t *r = &m->cmds[1];
	assert_int_equal(r->no_resp, 1);
	assert_string_equal(r->meta_type, "text/plain");
	assert_string_equal(r->meta_format, "chr");
	assert_null(r->original_error);
	assert_string_equal(r->items[0].format, "xml");
	assert_null(r->items[0].type);
	assert_int_equal(r->items[0].size, 1234);
	assert_int_equal(r->items[0].more_data, 1);
	assert_string_equal(r->items[0].data,
			    "<wap-provisioningdoc><characteristic type=\"A\"/></wap-provisioningdoc>");
	assert_string_equal(m->cmds[2].name, "SomeFutureComma");
	assert_true(strlen(m->cmds[2].name) <= 15);
	assert_string_equal(m->cmds[2].cmd_id, "3");
	assert_string_equal(m->cmds[3].name, "Frob");
	mdm_sml_msg_destroy(&m);

	/* XML sniffed without a content type; a UTF-8 name cut on a character boundary */
	err = (mdm_err_t){0};
	m = s_parse_str(HDR("1") "<SyncBody><Ab\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9><CmdID>1</CmdID></Ab\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9><Final/></SyncBody></SyncML>",
			&err);
	if (m == NULL)
		fail_msg("%s", err.text);
	assert_int_equal(m->wbxml, 0);
	assert_string_equal(m->cmds[0].name, "Ab\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	assert_int_equal(m->final, 1);
	mdm_sml_msg_destroy(&m);

	/* nesting: depth 4 is fine, unknown commands inside Atomic kept */
	err = (mdm_err_t){0};
	m = s_parse_str(HDR("1") "<SyncBody><Atomic><CmdID>1</CmdID><Meta><Type>x</Type></Meta>"
				 "<Sequence><CmdID>2</CmdID><Atomic><CmdID>3</CmdID>"
				 "<Replace><CmdID>4</CmdID><Item><Target><LocURI>./a</LocURI></Target></Item></Replace>"
				 "<Frob><CmdID>5</CmdID></Frob></Atomic></Sequence>"
				 "<Get><CmdID>6</CmdID><Item><Target><LocURI>./b</LocURI></Target></Item></Get>"
				 "</Atomic><Final/></SyncBody></SyncML>",
			&err);
	if (m == NULL)
		fail_msg("%s", err.text);
	assert_int_equal(m->n_cmds, 1);
	const mdm_sml_cmd_t *at = &m->cmds[0];
	assert_string_equal(at->name, "Atomic");
	assert_string_equal(at->meta_type, "x");
	assert_int_equal(at->n_children, 2);
	assert_string_equal(at->children[0].name, "Sequence");
	assert_string_equal(at->children[1].name, "Get");
	assert_string_equal(at->children[1].cmd_id, "6");
	const mdm_sml_cmd_t *in = &at->children[0].children[0];
	assert_string_equal(in->name, "Atomic");
	assert_int_equal(in->n_children, 2);
	assert_string_equal(in->children[0].items[0].target, "./a");
	assert_string_equal(in->children[1].name, "Frob");
	mdm_sml_msg_destroy(&m);

	assert_string_equal(mdm_sml_status_text(200), "OK");
	assert_string_equal(mdm_sml_status_text(507), "Atomic failed");
	assert_string_equal(mdm_sml_status_text(999), "Unknown status");
}

/* Builds a message of n top-level commands, each with k items. */
static char *s_big(size_t n, size_t k)
{
	size_t cap = 512 + n * (64 + k * 48);
	char *x = malloc(cap);
	size_t len = (size_t)snprintf(x, cap, "%s<SyncBody>", HDR("1"));
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(x + len, cap - len, "<Replace><CmdID>%zu</CmdID>", i + 1);
		for (size_t j = 0; j < k; j++)
			len += (size_t)snprintf(x + len, cap - len, "<Item><Data>%zu</Data></Item>", j);
		len += (size_t)snprintf(x + len, cap - len, "</Replace>");
	}
	snprintf(x + len, cap - len, "<Final/></SyncBody></SyncML>");
	return x;
}

static void test_parse_limits(void **state)
{
	mdm_err_t err = {0};
	char *x = s_big(MDM_SML_MAX_CMDS, 1);
	mdm_sml_msg_t *m = s_parse_str(x, &err);
	assert_non_null(m);
	assert_int_equal(m->n_cmds, MDM_SML_MAX_CMDS);
	mdm_sml_msg_destroy(&m);
	free(x);

	x = s_big(MDM_SML_MAX_CMDS + 1, 0);
	m = s_parse_str(x, &err);
	assert_null(m);
	assert_int_equal(err.code, MDM_E_MESSAGE_FORMAT);
	assert_string_equal(err.text, "too many commands");
	free(x);

	err = (mdm_err_t){0};
	x = s_big(10, MDM_SML_MAX_ITEMS / 10);
	m = s_parse_str(x, &err);
	assert_non_null(m);
	mdm_sml_msg_destroy(&m);
	free(x);
	x = s_big(10, MDM_SML_MAX_ITEMS / 10 + 1);
	m = s_parse_str(x, &err);
	assert_null(m);
	assert_string_equal(err.text, "too many items");
	free(x);
}

/* ---- WBXML specifics ------------------------------------------------------------------- */

static void test_wbxml_decode(void **state)
{
	/* minimal hand-made WBXML: SyncML 1.2 public id, then with the "unknown" public id
	 * 0x01, which libwbxml2 refuses unless the language is forced */
	static const unsigned char doc[] = {
		0x02, 0xA4, 0x01, 0x6A, 0x00,                  /* v1.2, 0x1201, UTF-8, no strtbl */
		0x6D,                                          /* <SyncML> */
		0x6C,                                          /* <SyncHdr> */
		0x71, 0x03, '1', '.', '2', 0x00, 0x01,         /* <VerDTD>1.2 */
		0x65, 0x03, '7', 0x00, 0x01,                   /* <SessionID>7 */
		0x5B, 0x03, '3', 0x00, 0x01,                   /* <MsgID>3 */
		0x67, 0x57, 0x03, 'd', '&', '<', 0x00, 0x01, 0x01, /* <Source><LocURI>d&< */
		0x5A, 0x00, 0x01, 0x4C, 0x03, '9', '9', 0x00, 0x01, 0x00, 0x00, 0x01, /* Meta/MaxMsgSize */
		0x01,                                          /* </SyncHdr> */
		0x6B,                                          /* <SyncBody> */
		0x46, 0x4B, 0x03, '2', 0x00, 0x01, 0x4F, 0x03, '1', '2', '0', '1', 0x00, 0x01, 0x01,
		0x12,                                          /* <Final/> */
		0x01, 0x01};
	mdm_err_t err = {0};
	mdm_sml_msg_t *m = mdm_sml_parse((const char *)doc, sizeof doc, MDM_SML_CT_WBXML, &err);
	if (m == NULL)
		fail_msg("%s", err.text);
	assert_int_equal(m->wbxml, 1);
	assert_string_equal(m->session_id, "7");
	assert_string_equal(m->msg_id, "3");
	assert_string_equal(m->source, "d&<");
	assert_int_equal(m->max_msg_size, 99);
	assert_int_equal(m->n_cmds, 1);
	assert_string_equal(m->cmds[0].name, "Alert");
	assert_string_equal(m->cmds[0].data, "1201");
	assert_int_equal(m->final, 1);
	mdm_sml_msg_destroy(&m);

	unsigned char anon[sizeof doc];
	memcpy(anon, doc, sizeof doc);
	anon[1] = 0x01; /* unknown public id, one byte shorter */
	memmove(anon + 2, anon + 3, sizeof doc - 3);
	m = mdm_sml_parse((const char *)anon, sizeof doc - 1, MDM_SML_CT_WBXML, &err);
	if (m == NULL)
		fail_msg("anonymous: %s", err.text);
	assert_string_equal(m->source, "d&<");
	mdm_sml_msg_destroy(&m);

	/* decoded XML has no prolog or DOCTYPE left */
	size_t xl = 0;
	char *x = mdm_sml_wbxml_to_xml((const char *)doc, sizeof doc, &xl, &err);
	assert_non_null(x);
	assert_int_equal(strlen(x), xl);
	assert_true(strncmp(x, "<SyncML", 7) == 0);
	assert_null(strstr(x, "DOCTYPE"));
	free(x);
}

/* Decoding cost is bounded before libwbxml2 runs: a string referenced thousands of times,
 * or elements nested thousands deep, are refused by the scan. */
static void test_wbxml_bombs(void **state)
{
	const size_t slen = 60000, refs = 2000;
	size_t cap = 16 + slen + refs * 5 + 16, n = 0;
	unsigned char *b = malloc(cap);
	b[n++] = 0x02;
	b[n++] = 0xA4;
	b[n++] = 0x01;
	b[n++] = 0x6A;
	/* string table length slen+1 as mb_u_int32 */
	uint32_t tl = (uint32_t)slen + 1;
	b[n++] = (unsigned char)(0x80 | ((tl >> 14) & 0x7f));
	b[n++] = (unsigned char)(0x80 | ((tl >> 7) & 0x7f));
	b[n++] = (unsigned char)(tl & 0x7f);
	memset(b + n, 'A', slen);
	n += slen;
	b[n++] = 0;
	b[n++] = 0x6D; /* <SyncML> */
	b[n++] = 0x6B; /* <SyncBody> */
	b[n++] = 0x4F; /* <Data> */
	for (size_t i = 0; i < refs; i++) {
		b[n++] = 0x83; /* STR_T 0 */
		b[n++] = 0x00;
	}
	b[n++] = 0x01;
	b[n++] = 0x01;
	b[n++] = 0x01;
	mdm_err_t err = {0};
	mdm_sml_msg_t *m = mdm_sml_parse((const char *)b, n, MDM_SML_CT_WBXML, &err);
	assert_null(m);
	assert_int_equal(err.code, MDM_E_MESSAGE_FORMAT);
	assert_string_equal(err.text, "invalid WBXML: too large once decoded");
	free(b);

	/* 100000 nested <Atomic> */
	size_t depth = 100000;
	b = malloc(8 + 2 * depth);
	n = 0;
	b[n++] = 0x02;
	b[n++] = 0xA4;
	b[n++] = 0x01;
	b[n++] = 0x6A;
	b[n++] = 0x00;
	for (size_t i = 0; i < depth; i++)
		b[n++] = 0x48;
	for (size_t i = 0; i < depth; i++)
		b[n++] = 0x01;
	err = (mdm_err_t){0};
	m = mdm_sml_parse((const char *)b, n, NULL, &err);
	assert_null(m);
	assert_string_equal(err.text, "invalid WBXML: elements nested too deeply");
	free(b);
}

/* ---- writer ---------------------------------------------------------------------------- */

static char *s_finish(mdm_sml_writer_t *w, int final, size_t *len)
{
	char *x = mdm_sml_writer_finish(w, final, 0, len);
	assert_non_null(x);
	assert_int_equal(strlen(x), *len);
	return x;
}

static void test_writer_statuses(void **state)
{
	assert_null(mdm_sml_writer_new(NULL, "1", "d", "s"));
	assert_null(mdm_sml_writer_new("1", "1", NULL, "s"));
	mdm_sml_writer_t *w = mdm_sml_writer_new("1", "1", FLEET_DEV, "https://srv/m?a=1&b=2");
	assert_non_null(w);
	assert_int_equal(mdm_sml_add_status(w, "1", "0", "SyncHdr", "200", NULL, NULL), 1);
	size_t len;
	char *x = s_finish(w, 1, &len);
	assert_string_equal(
		x, "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
		   "<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>" FLEET_DEV "</LocURI></Target>"
		   "<Source><LocURI>https://srv/m?a=1&amp;b=2</LocURI></Source></SyncHdr><SyncBody>"
		   "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>"
		   "<Data>200</Data></Status><Final/></SyncBody></SyncML>");
	free(x);

	assert_int_equal(mdm_sml_add_status(w, "1", "2", "Alert", "200", NULL, NULL), 2);
	assert_int_equal(mdm_sml_add_status(w, "1", "4", "Replace", "200", "./DevInfo/Man", "./S&<"), 3);
	assert_int_equal(mdm_sml_add_status(w, NULL, "4", "Replace", "200", NULL, NULL), -1);
	assert_int_equal(mdm_sml_add_status(w, "1", "4", "Replace", NULL, NULL, NULL), -1);
	assert_int_equal(mdm_sml_add_alert(w, "1222", NULL), 4);
	assert_int_equal(mdm_sml_add_alert(w, "1224", "x<y"), 5);
	assert_int_equal(mdm_sml_add_alert(w, NULL, NULL), -1);
	x = s_finish(w, 0, &len);
	assert_non_null(strstr(x, "<Status><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>4</CmdRef><Cmd>Replace</Cmd>"
				  "<TargetRef>./DevInfo/Man</TargetRef><SourceRef>./S&amp;&lt;</SourceRef>"
				  "<Data>200</Data></Status>"));
	assert_non_null(strstr(x, "<Alert><CmdID>4</CmdID><Data>1222</Data></Alert>"));
	assert_null(strstr(x, "<Final/>"));
	mdm_err_t err = {0};
	mdm_sml_msg_t *m = s_parse_str(x, &err);
	assert_non_null(m);
	assert_int_equal(m->final, 0);
	assert_string_equal(m->target, FLEET_DEV);
	assert_string_equal(m->source, "https://srv/m?a=1&b=2");
	assert_int_equal(m->n_cmds, 5);
	s_check_status(&m->cmds[2], "3", "1", "4", "Replace", "200");
	assert_string_equal(m->cmds[2].target_ref, "./DevInfo/Man");
	assert_string_equal(m->cmds[2].source_ref, "./S&<");
	assert_string_equal(m->cmds[4].items[0].data, "x<y");
	mdm_sml_msg_destroy(&m);
	free(x);
	mdm_sml_writer_destroy(&w);
	assert_null(w);
	mdm_sml_writer_destroy(&w);
}

static json_t *s_json(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &je);
	if (j == NULL)
		fail_msg("bad test JSON: %s: %s", je.text, text);
	return j;
}

/* Every verb; Atomic and Sequence with nested children; CmdIDs unique, children numbered
 * after their parent; sizes predicted exactly (writer) or bounded (spec alone). */
static const char *const s_specs[] = {
	"{\"verb\":\"Get\",\"items\":[{\"target\":\"./DevDetail/SwV\"},{\"target\":\"./DevDetail/Ext/Microsoft/DeviceName\"}]}",
	"{\"verb\":\"Add\",\"items\":[{\"target\":\"./Vendor/MSFT/DMClient/Provider/MS%20DM%20Server/Push/PFN\",\"format\":\"chr\",\"type\":\"text/plain\",\"data\":\"App.Pfn_1\"}]}",
	"{\"verb\":\"Replace\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength\",\"format\":\"int\",\"data\":\"8\"}]}",
	"{\"verb\":\"Delete\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled\"}]}",
	"{\"verb\":\"Exec\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Reboot/RebootNow\",\"format\":\"null\"}]}",
	"{\"verb\":\"Sequence\",\"cmds\":[{\"verb\":\"Exec\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/RemoteLock/LockAndResetPIN\"}]},"
	"{\"verb\":\"Get\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/RemoteLock/NewPINValue\"}]}]}",
	"{\"verb\":\"Atomic\",\"cmds\":[{\"verb\":\"Replace\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Policy/Config/A/B\",\"format\":\"int\",\"data\":\"1\"}]},"
	"{\"verb\":\"Sequence\",\"cmds\":[{\"verb\":\"Add\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Policy/Config/A/C\",\"format\":\"xml\",\"data\":\"<a href=\\\"x\\\">&amp; ]]> 'q'</a>\"}]},"
	"{\"verb\":\"Delete\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Policy/Config/A/D\"}]}]},"
	"{\"verb\":\"Exec\",\"items\":[{\"target\":\"./Vendor/MSFT/X\",\"format\":\"chr\",\"data\":\"line1\\nline2 & <3\"}]}]}",
};

static void test_writer_specs(void **state)
{
	mdm_sml_writer_t *w = mdm_sml_writer_new("2A", "3", "dev", "https://s/m");
	assert_int_equal(mdm_sml_add_status(w, "3", "0", "SyncHdr", "200", NULL, NULL), 1);
	int expect_id = 2;
	for (size_t i = 0; i < sizeof s_specs / sizeof s_specs[0]; i++) {
		json_t *spec = s_json(s_specs[i]);
		mdm_err_t err = {0};
		assert_int_equal(mdm_sml_spec_check(spec, &err), 0);
		size_t before = mdm_sml_writer_size(w);
		size_t exact = mdm_sml_writer_spec_size(w, spec);
		size_t bound = mdm_sml_spec_size(spec);
		int id = mdm_sml_add_spec(w, spec, &err);
		if (id < 0)
			fail_msg("spec %zu: %s", i, err.text);
		assert_int_equal(id, expect_id);
		size_t added = mdm_sml_writer_size(w) - before;
		assert_int_equal(added, exact);
		assert_true(bound >= added);
		assert_true(bound - added <= 4 * 8); /* at most 4 bytes per command */
		size_t len;
		char *x = s_finish(w, 1, &len);
		assert_int_equal(len, mdm_sml_writer_size(w)); /* the prediction is exact */
		free(x);
		/* count commands in the spec to know the next id */
		mdm_sml_writer_t *one = mdm_sml_writer_new("1", "1", "d", "s");
		mdm_sml_add_spec(one, spec, &err);
		x = s_finish(one, 1, &len);
		size_t n = 0;
		for (const char *p = strstr(x, "<CmdID>"); p; p = strstr(p + 1, "<CmdID>"))
			n++;
		free(x);
		mdm_sml_writer_destroy(&one);
		expect_id += (int)n;
		json_decref(spec);
	}
	size_t len;
	char *x = s_finish(w, 1, &len);
	assert_non_null(strstr(x, "<Exec><CmdID>6</CmdID><Item><Target><LocURI>./Device/Vendor/MSFT/Reboot/RebootNow</LocURI>"
				  "</Target><Meta><Format xmlns=\"syncml:metinf\">null</Format></Meta></Item></Exec>"));
	assert_non_null(strstr(x, "<Meta><Format xmlns=\"syncml:metinf\">chr</Format><Type xmlns=\"syncml:metinf\">"
				  "text/plain</Type></Meta><Data>App.Pfn_1</Data>"));
	assert_non_null(strstr(x, "<Data>&lt;a href=&quot;x&quot;&gt;&amp;amp; ]]&gt; &#39;q&#39;&lt;/a&gt;</Data>"));

	mdm_err_t err = {0};
	mdm_sml_msg_t *m = s_parse_str(x, &err);
	if (m == NULL)
		fail_msg("%s", err.text);
	assert_int_equal(m->n_cmds, 8);
	static const char *const names[] = {"Status", "Get", "Add", "Replace", "Delete", "Exec", "Sequence", "Atomic"};
	for (size_t i = 0; i < 8; i++)
		assert_string_equal(m->cmds[i].name, names[i]);
	/* CmdIDs: 1..N, each once, in document order (parent first) */
	const mdm_sml_cmd_t *stack[64];
	size_t sp = 0, next = 1;
	for (size_t i = m->n_cmds; i-- > 0;)
		stack[sp++] = &m->cmds[i];
	while (sp) {
		const mdm_sml_cmd_t *c = stack[--sp];
		char want[16];
		snprintf(want, sizeof want, "%zu", next++);
		assert_string_equal(c->cmd_id, want);
		for (size_t i = c->n_children; i-- > 0;)
			stack[sp++] = &c->children[i];
	}
	assert_int_equal(next, 16);
	const mdm_sml_cmd_t *seq = &m->cmds[6];
	assert_string_equal(seq->cmd_id, "7");
	assert_int_equal(seq->n_children, 2);
	assert_string_equal(seq->children[0].name, "Exec");
	assert_string_equal(seq->children[0].cmd_id, "8");
	assert_string_equal(seq->children[1].name, "Get");
	const mdm_sml_cmd_t *at = &m->cmds[7];
	assert_string_equal(at->cmd_id, "10");
	assert_int_equal(at->n_children, 3);
	assert_string_equal(at->children[1].name, "Sequence");
	assert_string_equal(at->children[1].cmd_id, "12");
	assert_string_equal(at->children[1].children[0].cmd_id, "13");
	assert_string_equal(at->children[1].children[0].items[0].format, "xml");
	assert_string_equal(at->children[1].children[0].items[0].data, "<a href=\"x\">&amp; ]]> 'q'</a>");
	assert_string_equal(at->children[1].children[1].cmd_id, "14");
	assert_string_equal(at->children[2].cmd_id, "15");
	assert_string_equal(at->children[2].items[0].data, "line1\nline2 & <3");
	assert_string_equal(m->cmds[2].items[0].type, "text/plain");
	assert_string_equal(m->cmds[2].items[0].target,
			    "./Vendor/MSFT/DMClient/Provider/MS%20DM%20Server/Push/PFN");
	mdm_sml_msg_destroy(&m);
	free(x);
	mdm_sml_writer_destroy(&w);
}

/* The simulator's side: Replace/Alert/Results with full items. */
static void test_writer_device_side(void **state)
{
	mdm_sml_writer_t *w = mdm_sml_writer_new("1", "1", "https://s/m", "dev");
	mdm_sml_item_t login = {.type = "com.microsoft/MDM/LoginStatus", .data = "user", .size = -1};
	mdm_sml_item_t devinfo[2] = {{.source = "./DevInfo/DevId", .data = "dev"},
				     {.source = "./DevInfo/Man", .data = "A & B"}};
	mdm_sml_item_t res = {.source = "./DevDetail/SwV", .format = "chr", .data = "10.0", .size = 4,
			      .more_data = 1};
	assert_int_equal(mdm_sml_add_alert(w, "1201", NULL), 1);
	assert_int_equal(mdm_sml_add_alert_items(w, "1224", &login, 1), 2);
	assert_int_equal(mdm_sml_add_cmd(w, "Replace", devinfo, 2), 3);
	assert_int_equal(mdm_sml_add_results(w, "1", "5", &res, 1), 4);
	assert_int_equal(mdm_sml_add_cmd(w, "Bad Name", devinfo, 1), -1);
	assert_int_equal(mdm_sml_add_cmd(w, "", devinfo, 1), -1);
	assert_int_equal(mdm_sml_add_cmd(w, "Replace", NULL, 1), -1);
	size_t len;
	char *x = s_finish(w, 1, &len);
	mdm_err_t err = {0};
	mdm_sml_msg_t *m = s_parse_str(x, &err);
	assert_non_null(m);
	assert_string_equal(m->source, "dev");
	assert_string_equal(m->cmds[1].items[0].type, "com.microsoft/MDM/LoginStatus");
	assert_string_equal(m->cmds[2].items[1].data, "A & B");
	assert_string_equal(m->cmds[3].name, "Results");
	assert_string_equal(m->cmds[3].cmd_ref, "5");
	assert_int_equal(m->cmds[3].items[0].size, 4);
	assert_int_equal(m->cmds[3].items[0].more_data, 1);
	/* Results, Size, MoreData through WBXML too */
	size_t wlen;
	char *wb = mdm_sml_writer_finish(w, 1, 1, &wlen);
	assert_non_null(wb);
	mdm_sml_msg_t *b = mdm_sml_parse(wb, wlen, MDM_SML_CT_WBXML, &err);
	if (b == NULL)
		fail_msg("%s", err.text);
	s_msg_eq(m, b);
	mdm_sml_msg_destroy(&b);
	free(wb);
	mdm_sml_msg_destroy(&m);
	free(x);
	mdm_sml_writer_destroy(&w);
}

/* XML -> WBXML -> parse gives what XML -> parse gives. */
static void test_writer_wbxml_roundtrip(void **state)
{
	mdm_sml_writer_t *w = mdm_sml_writer_new("1F", "12", "dev & co", "https://s/m?x=<1>");
	mdm_sml_add_status(w, "12", "0", "SyncHdr", "200", "https://s/m?x=<1>", "dev & co");
	mdm_sml_add_status(w, "12", "3", "Alert", "200", NULL, NULL);
	mdm_sml_add_alert(w, "1222", NULL);
	for (size_t i = 0; i < sizeof s_specs / sizeof s_specs[0]; i++) {
		json_t *spec = s_json(s_specs[i]);
		mdm_err_t err = {0};
		assert_true(mdm_sml_add_spec(w, spec, &err) > 0);
		json_decref(spec);
	}
	json_t *spec = s_json("{\"verb\":\"Replace\",\"items\":[{\"target\":\"./A\",\"data\":\"  spaced\\r\\n  multi\\nline  \"},"
			      "{\"target\":\"./B\",\"format\":\"b64\",\"data\":\"AAEC/w==\"},"
			      "{\"target\":\"./C\",\"format\":\"chr\",\"data\":\"\\u00e9\\u2713 caf\\u00e9\"},"
			      "{\"target\":\"./D\",\"data\":\"\"},"
			      "{\"target\":\"./E\",\"format\":\"xml\",\"data\":\"<a><![CDATA[x]]></a><b><![CDATA[]]]]><![CDATA[>]]></b>\"},"
			      "{\"target\":\"./F\",\"data\":\"]]> ]]]> <![CDATA[\"}]}");
	mdm_err_t err = {0};
	assert_true(mdm_sml_add_spec(w, spec, &err) > 0);
	json_decref(spec);
	for (int final = 0; final <= 1; final++) {
		size_t xlen, wlen;
		char *x = mdm_sml_writer_finish(w, final, 0, &xlen);
		char *wb = mdm_sml_writer_finish(w, final, 1, &wlen);
		assert_non_null(x);
		assert_non_null(wb);
		assert_true(wlen < xlen);
		assert_memory_equal(wb, "\x02\xA4\x01\x6A\x00", 5); /* 1.2, 0x1201, UTF-8, no strtbl */
		mdm_sml_msg_t *a = mdm_sml_parse(x, xlen, MDM_SML_CT_XML, &err);
		mdm_sml_msg_t *b = mdm_sml_parse(wb, wlen, MDM_SML_CT_WBXML, &err);
		if (a == NULL || b == NULL)
			fail_msg("%s", err.text);
		assert_int_equal(a->wbxml, 0);
		assert_int_equal(b->wbxml, 1);
		assert_int_equal(b->final, final);
		s_msg_eq(a, b);
		const mdm_sml_cmd_t *r = &b->cmds[a->n_cmds - 1];
		assert_string_equal(r->items[0].data, "  spaced\n  multi\nline  "); /* Item Data is never trimmed */
		assert_string_equal(r->items[2].data, "\xc3\xa9\xe2\x9c\x93 caf\xc3\xa9");
		assert_string_equal(r->items[3].data, "");
		assert_string_equal(r->items[4].data, "<a><![CDATA[x]]></a><b><![CDATA[]]]]><![CDATA[>]]></b>");
		assert_string_equal(r->items[5].data, "]]> ]]]> <![CDATA[");
		/* the opaque data came back through libwbxml2's CDATA, split by the codec */
		size_t dl = 0;
		char *dx = mdm_sml_wbxml_to_xml(wb, wlen, &dl, &err);
		assert_non_null(dx);
		assert_non_null(strstr(dx, "<Data><![CDATA[<a><![CDATA[x]]]]><![CDATA[></a>"));
		free(dx);
		assert_string_equal(b->target, "dev & co");
		mdm_sml_msg_destroy(&a);
		mdm_sml_msg_destroy(&b);
		free(x);
		free(wb);
	}
	mdm_sml_writer_destroy(&w);
}

/* Invalid specs are refused and leave the message as it was. */
static const struct {
	const char *spec, *error;
} s_bad_specs[] = {
	{"[]", "spec must be an object"},
	{"{\"items\":[{\"target\":\"./A\"}]}", "verb must be one of"},
	{"{\"verb\":\"Copy\",\"items\":[{\"target\":\"./A\"}]}", "verb must be one of"},
	{"{\"verb\":\"Get\"}", "items must be a non-empty array on Get"},
	{"{\"verb\":\"Exec\",\"items\":[]}", "items must be a non-empty array on Exec"},
	{"{\"verb\":\"Get\",\"items\":[{\"format\":\"chr\"}]}", "items[0].target is required"},
	{"{\"verb\":\"Get\",\"items\":[{\"target\":\"/DevDetail/SwV\"}]}", "items[0].target must start with \"./\""},
	{"{\"verb\":\"Get\",\"items\":[{\"target\":\"DevDetail\"}]}", "items[0].target must start with \"./\""},
	{"{\"verb\":\"Add\",\"items\":[{\"target\":\"./A\"},{\"target\":\"./MS DM Server\"}]}", "items[1].target must not contain spaces"},
	{"{\"verb\":\"Add\",\"items\":[{\"target\":\"./A\\tB\"}]}", "items[0].target must not contain spaces"},
	{"{\"verb\":\"Get\",\"items\":[{\"target\":\"./A\",\"data\":\"x\"}]}", "items[0].data is not allowed on Get"},
	{"{\"verb\":\"Delete\",\"items\":[{\"target\":\"./A\",\"data\":\"x\"}]}", "items[0].data is not allowed on Delete"},
	{"{\"verb\":\"Add\",\"items\":[{\"target\":\"./A\",\"format\":\"text\"}]}", "items[0].format must be one of"},
	{"{\"verb\":\"Add\",\"items\":[{\"target\":\"./A\",\"data\":5}]}", "items[0].data must be a string"},
	{"{\"verb\":\"Add\",\"items\":[{\"target\":\"./A\",\"data\":\"a\\u0001b\"}]}", "items[0].data must not contain control characters"},
	{"{\"verb\":\"Add\",\"items\":[{\"target\":\"./A\",\"data\":\"a\\u0000b\"}]}", "items[0].data must not contain control characters"},
	{"{\"verb\":\"Add\",\"items\":[{\"target\":\"./A\",\"meta\":\"x\"}]}", "items[0].meta is not a known field"},
	{"{\"verb\":\"Add\",\"items\":[{\"target\":\"./A\"}],\"extra\":1}", "extra is not a known field"},
	{"{\"verb\":\"Add\",\"items\":[{\"target\":\"./A\"}],\"cmds\":[]}", "cmds is only allowed on Atomic and Sequence"},
	{"{\"verb\":\"Atomic\"}", "cmds must be a non-empty array on Atomic"},
	{"{\"verb\":\"Sequence\",\"cmds\":[]}", "cmds must be a non-empty array on Sequence"},
	{"{\"verb\":\"Atomic\",\"items\":[{\"target\":\"./A\"}],\"cmds\":[{\"verb\":\"Delete\",\"items\":[{\"target\":\"./A\"}]}]}", "items is not allowed on Atomic"},
	{"{\"verb\":\"Atomic\",\"cmds\":[{\"verb\":\"Get\",\"items\":[{\"target\":\"./A\"}]}]}", "cmds[0].verb Get is not allowed inside an Atomic"},
	{"{\"verb\":\"Atomic\",\"cmds\":[{\"verb\":\"Atomic\",\"cmds\":[{\"verb\":\"Delete\",\"items\":[{\"target\":\"./A\"}]}]}]}", "cmds[0].verb Atomic is not allowed inside an Atomic"},
	{"{\"verb\":\"Atomic\",\"cmds\":[{\"verb\":\"Sequence\",\"cmds\":[{\"verb\":\"Delete\",\"items\":[{\"target\":\"./A\"}]},{\"verb\":\"Get\",\"items\":[{\"target\":\"./A\"}]}]}]}", "cmds[0].cmds[1].verb Get is not allowed inside an Atomic"},
	{"{\"verb\":\"Sequence\",\"cmds\":[{\"verb\":\"Sequence\",\"cmds\":[{\"verb\":\"Sequence\",\"cmds\":[{\"verb\":\"Sequence\",\"cmds\":[{\"verb\":\"Get\",\"items\":[{\"target\":\"./A\"}]}]}]}]}]}", "cmds[0].cmds[0].cmds[0].cmds[0] nests commands deeper than 4 levels"},
	{"{\"verb\":\"Sequence\",\"cmds\":[5]}", "cmds[0] must be an object"},
};

static void test_spec_invalid(void **state)
{
	mdm_sml_writer_t *w = mdm_sml_writer_new("1", "1", "d", "s");
	mdm_sml_add_status(w, "1", "0", "SyncHdr", "200", NULL, NULL);
	size_t size = mdm_sml_writer_size(w);
	for (size_t i = 0; i < sizeof s_bad_specs / sizeof s_bad_specs[0]; i++) {
		json_t *spec = s_json(s_bad_specs[i].spec);
		mdm_err_t err = {0};
		assert_int_equal(mdm_sml_add_spec(w, spec, &err), -1);
		assert_int_equal(err.code, MDM_E_BAD_REQUEST);
		if (strncmp(err.text, s_bad_specs[i].error, strlen(s_bad_specs[i].error)) != 0)
			fail_msg("spec %zu: got \"%s\", want \"%s...\"", i, err.text, s_bad_specs[i].error);
		assert_int_equal(mdm_sml_spec_size(spec), 0);
		assert_int_equal(mdm_sml_writer_spec_size(w, spec), 0);
		err = (mdm_err_t){0};
		assert_int_equal(mdm_sml_spec_check(spec, &err), -1);
		json_decref(spec);
	}
	assert_int_equal(mdm_sml_writer_size(w), size);

	/* limits: 64 items, 64 commands per container, 64 KiB of data */
	json_t *items = json_array();
	for (int i = 0; i < MDM_SML_SPEC_MAX_ITEMS + 1; i++)
		json_array_append_new(items, json_pack("{s:s}", "target", "./A"));
	json_t *spec = json_pack("{s:s,s:o}", "verb", "Get", "items", items);
	mdm_err_t err = {0};
	assert_int_equal(mdm_sml_add_spec(w, spec, &err), -1);
	assert_string_equal(err.text, "items holds more than 64 items");
	json_array_remove(items, 0);
	err = (mdm_err_t){0};
	assert_int_equal(mdm_sml_add_spec(w, spec, &err), 2);
	json_decref(spec);

	json_t *cmds = json_array();
	for (int i = 0; i < MDM_SML_SPEC_MAX_CMDS + 1; i++)
		json_array_append_new(cmds, json_pack("{s:s,s:[{s:s}]}", "verb", "Delete", "items", "target", "./A"));
	spec = json_pack("{s:s,s:o}", "verb", "Atomic", "cmds", cmds);
	err = (mdm_err_t){0};
	assert_int_equal(mdm_sml_add_spec(w, spec, &err), -1);
	assert_string_equal(err.text, "cmds holds more than 64 commands");
	json_decref(spec);

	char *big = malloc(MDM_SML_SPEC_MAX_DATA / 2 + 1);
	memset(big, 'x', MDM_SML_SPEC_MAX_DATA / 2);
	big[MDM_SML_SPEC_MAX_DATA / 2] = '\0';
	spec = json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s}]}", "verb", "Replace", "items", "target", "./A",
			 "data", big, "target", "./B", "data", big);
	err = (mdm_err_t){0};
	assert_true(mdm_sml_add_spec(w, spec, &err) > 0); /* exactly 64 KiB */
	json_decref(spec);
	/* the data limit counts nested commands together */
	spec = s_json("{\"verb\":\"Sequence\",\"cmds\":[{\"verb\":\"Replace\",\"items\":[{\"target\":\"./A\"}]},"
		      "{\"verb\":\"Replace\",\"items\":[{\"target\":\"./B\"}]}]}");
	json_object_set_new(json_array_get(json_object_get(json_array_get(json_object_get(spec, "cmds"), 0), "items"), 0),
			    "data", json_string(big));
	big[0] = 'y';
	json_object_set_new(json_array_get(json_object_get(json_array_get(json_object_get(spec, "cmds"), 1), "items"), 0),
			    "data", json_sprintf("%s!", big));
	err = (mdm_err_t){0};
	assert_int_equal(mdm_sml_add_spec(w, spec, &err), -1);
	assert_string_equal(err.text, "cmds[1].items[0].data makes the command exceed 65536 bytes of data");
	json_decref(spec);
	free(big);
	mdm_sml_writer_destroy(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fleet_first_session),
		cmocka_unit_test(test_fleet_unenroll),
		cmocka_unit_test(test_fleet_server_replies),
		cmocka_unit_test(test_wso2_utf16_cred),
		cmocka_unit_test(test_wso2_utf16_status_results),
		cmocka_unit_test(test_spec_exchange),
		cmocka_unit_test(test_vectors_wbxml),
		cmocka_unit_test(test_invalid_cases),
		cmocka_unit_test(test_parse_details),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_wbxml_decode),
		cmocka_unit_test(test_wbxml_bombs),
		cmocka_unit_test(test_writer_statuses),
		cmocka_unit_test(test_writer_specs),
		cmocka_unit_test(test_writer_device_side),
		cmocka_unit_test(test_writer_wbxml_roundtrip),
		cmocka_unit_test(test_spec_invalid),
	};
	return cmocka_run_group_tests_name("syncml", tests, NULL, NULL);
}
