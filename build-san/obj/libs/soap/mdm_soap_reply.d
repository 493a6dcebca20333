build-san/obj/libs/soap/mdm_soap_reply.o: libs/soap/mdm_soap_reply.c \
 libs/soap/mdm_soap_reply.h libs/core/mdm_err.h libs/bus/mdm_worker.h \
 libs/core/mdm_buf.h libs/bus/mdm_msg.h libs/soap/mdm_fault.h \
 libs/core/mdm_log.h
libs/soap/mdm_soap_reply.h:
libs/core/mdm_err.h:
libs/bus/mdm_worker.h:
libs/core/mdm_buf.h:
libs/bus/mdm_msg.h:
libs/soap/mdm_fault.h:
libs/core/mdm_log.h:
