build-san/obj/services/registry/reg_api.o: services/registry/reg_api.c \
 libs/crypto/mdm_b64.h libs/core/mdm_log.h libs/crypto/mdm_password.h \
 services/registry/reg.h libs/store/mdm_store.h libs/core/mdm_err.h \
 libs/bus/mdm_worker.h libs/core/mdm_buf.h libs/bus/mdm_msg.h
libs/crypto/mdm_b64.h:
libs/core/mdm_log.h:
libs/crypto/mdm_password.h:
services/registry/reg.h:
libs/store/mdm_store.h:
libs/core/mdm_err.h:
libs/bus/mdm_worker.h:
libs/core/mdm_buf.h:
libs/bus/mdm_msg.h:
