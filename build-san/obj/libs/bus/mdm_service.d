build-san/obj/libs/bus/mdm_service.o: libs/bus/mdm_service.c \
 libs/bus/mdm_service.h libs/core/mdm_config.h libs/core/mdm_err.h \
 libs/bus/mdm_worker.h libs/core/mdm_buf.h libs/core/mdm_err.h \
 libs/bus/mdm_msg.h libs/core/mdm_log.h
libs/bus/mdm_service.h:
libs/core/mdm_config.h:
libs/core/mdm_err.h:
libs/bus/mdm_worker.h:
libs/core/mdm_buf.h:
libs/core/mdm_err.h:
libs/bus/mdm_msg.h:
libs/core/mdm_log.h:
