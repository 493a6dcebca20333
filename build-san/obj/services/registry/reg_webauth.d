build-san/obj/services/registry/reg_webauth.o: \
 services/registry/reg_webauth.c libs/core/mdm_buf.h libs/core/mdm_log.h \
 libs/crypto/mdm_password.h libs/crypto/mdm_token.h libs/core/mdm_err.h \
 services/registry/reg.h libs/store/mdm_store.h libs/bus/mdm_worker.h \
 libs/bus/mdm_msg.h
libs/core/mdm_buf.h:
libs/core/mdm_log.h:
libs/crypto/mdm_password.h:
libs/crypto/mdm_token.h:
libs/core/mdm_err.h:
services/registry/reg.h:
libs/store/mdm_store.h:
libs/bus/mdm_worker.h:
libs/bus/mdm_msg.h:
